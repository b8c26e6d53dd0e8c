"""CIFAR-10 accuracy against seconds at budgets of 1 to 16 epochs, with augmentation: the runs of `12_cifar10.ipynb`.

Run from this folder: `python cifar10_budgets.py` trains the runs of the config below that `cifar10_budgets.jsonl` lacks;
`--redo` also those recorded with other code than HEAD's (it re-does them at HEAD); `--workers 2` runs two processes of
one thread each, one per core (the records say so). The config is the whole experiment: change it, not the record."""
import os, shutil, subprocess, sys, time, warnings
from functools import cache
from pathlib import Path
from fastai.vision.all import *
from fastdeconv.all import *
from torchvision.io import decode_image
warnings.filterwarnings('ignore')
here = Path(__file__).resolve().parent
out = here/'cifar10_budgets.jsonl'
archive = here.parents[2]/'shared'/'data'/'cifar10-train.tgz'

# Data: 15,000 of the 50,000 training images (seeded), 5,000 of them held back for validation (the same for every run),
# 10,000 trained on with random crops of the image zero-padded by 4 px and horizontal flips (`PadCropFlip`), batch 64
data = dict(data='cifar10-train', n_items=15_000, valid_pct=1/3, split_seed=42, bs=64, augmentation='PadCropFlip(4)')

@cache
def images():
    "The images of the subset as a uint8 tensor, and their classes"
    root,folders = image_root(resolve_data(archive))
    files = get_image_files(root, folders=folders[:1] or None).sorted()
    files = files[random_subset(len(files), data['n_items'], data['split_seed'])]
    return torch.stack([decode_image(str(f)) for f in files]),files.map(parent_label)

def cifar_dls():
    x,y = images()
    return tensor_dls(x.float()/255, y, Categorize(), bs=data['bs'], valid_pct=data['valid_pct'], seed=data['split_seed'],
                      batch_tfms=PadCropFlip(4))

# The networks: fastai's xresnet18 the usual way (a plain `Learner`, Adam, one-cycle) at each point of the grid, the
# deconvolution networks with `deconv_learner`'s defaults at every budget, and at the other points of the grid at the
# shortest and longest budgets; seeds 1 and 2 at those budgets, xresnet18 at its best point of the grid on seed 0; and
# the stem without its learning-rate multiplier at the longest budget. The cheap seeds of the two shortest budgets run first.
budgets = (1, 2, 4, 8, 16)
grid = [dict(lr=lr, wd=wd) for lr in (3e-3, 1e-2) for wd in (1e-2, 1e-1)]
usual = dict(lr=1e-2, wd=1e-2) # fastai's xresnet18 as most train it (the stem's defaults too)
archs = dict(xresnet18=xresnet18, deconv_xresnet18=deconv_xresnet18, deconv_xresnet18_all=deconv_xresnet18_all)

def config_name(hps): return ' '.join(f'{k}={v}' for k,v in hps.items()) or 'defaults'

def best(recs, epochs):
    "xresnet18's best point of the grid at `epochs` on seed 0 (final validation accuracy); `None` until the grid is recorded"
    accs = [recs.get(('xresnet18', epochs, 0, config_name(g)), {}).get('accuracy', [None])[-1] for g in grid]
    return None if None in accs else grid[accs.index(max(accs))]

def config(recs):
    "The runs `(arch, epochs, seed, settings)` in the order they are run, given the records by run `(arch, epochs, seed, config)`"
    deconvs = [a for a in archs if a!='xresnet18']
    def seeds(b): return [(a, b, s, {}) for s in (1, 2) for a in deconvs] + [('xresnet18', b, s, best(recs, b)) for s in (1, 2)]
    def deconv_grid(b): # a network's defaults' point of the grid is not run twice
        return [(a, b, 0, g) for a in deconvs for d in [recs.get((a, b, 0, 'defaults'))] for g in grid if d and (d['lr'],d['wd'])!=(g['lr'],g['wd'])]
    runs = [(a, b, 0, usual if a=='xresnet18' else {}) for b in budgets for a in archs]
    runs += [('xresnet18', budgets[0], 0, g) for g in grid] + seeds(budgets[0])
    runs += [(a, budgets[1], s, usual if a=='xresnet18' else {}) for s in (1, 2) for a in archs] # the second budget's seeds, xresnet18 the usual way
    runs += [('xresnet18', budgets[-1], 0, g) for g in grid]
    runs += seeds(budgets[-1]) + deconv_grid(budgets[-1]) + [('deconv_xresnet18', budgets[-1], 0, dict(stem_lr_mult=1))]
    runs += deconv_grid(budgets[0])
    runs += [('xresnet18', b, 0, g) for b in budgets[1:-1] for g in grid]
    return list(dict.fromkeys((a, b, s, tuple(h.items())) for a,b,s,h in runs if h is not None))

def train(arch, epochs, seed, hps):
    set_seed(seed, reproducible=True)
    dls = cifar_dls()
    learn = (Learner(dls, xresnet18(n_out=10), metrics=accuracy, **hps) if arch=='xresnet18' else
             deconv_learner(dls, archs[arch], **hps))
    rec = fit_record(learn, epochs, experiment='cifar10_budgets', arch=arch, seed=seed, config=config_name(hps), **data)
    save_record(out, rec)

def recorded(at_head=False):
    "The records by run `(arch, epochs, seed, config)`; only those of HEAD's code if `at_head`"
    if not out.exists(): return {}
    head = code_state(here)
    return {(d['arch'], d['epochs'], d['seed'], d['config']):d for d in load_records(out).to_dict('records')
            if not at_head or (d['commit'],d['dirty'])==(head['commit'],False)}

def work(redo):
    claims = here/'.claims'
    while True:
        recs = recorded(redo)
        todo = [r for r in config(recorded()) if (r[0], r[1], r[2], config_name(dict(r[3]))) not in recs]
        for a,b,s,h in todo:
            try: os.close(os.open(claims/f'{a}-{b}-{s}-{config_name(dict(h))}', os.O_CREAT|os.O_EXCL))
            except FileExistsError: continue
            print(time.strftime('%H:%M'), a, b, s, dict(h), flush=True)
            train(a, b, s, dict(h))
            break
        else:
            if not todo: return
            time.sleep(60) # the rest is claimed by another process, or waits for the grid

if __name__=='__main__':
    redo = '--redo' in sys.argv
    if code_state(here)['dirty']: sys.exit('The library or the scripts differ from the commit: commit first, so the records name the code')
    if '--worker' in sys.argv: sys.exit(work(redo))
    shutil.rmtree(here/'.claims', ignore_errors=True)
    (here/'.claims').mkdir()
    n = int(sys.argv[sys.argv.index('--workers')+1]) if '--workers' in sys.argv else 1
    if n==1: work(redo)
    else:
        ps = [subprocess.Popen(['taskset', '-c', str(i), sys.executable, __file__, '--worker', *(['--redo'] if redo else [])],
                               env=os.environ|dict(OMP_NUM_THREADS='1')) for i in range(n)]
        for p in ps: p.wait()
