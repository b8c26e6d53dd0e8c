"CIFAR-10 experiments of `11_cifar10.ipynb` on CPU: each run appends one JSON line to `cifar10_cpu.jsonl`"
# Run from nbs/experiments: OMP_NUM_THREADS=2 python cifar10_cpu.py [--only TAG]; the runs of one tag with --only;
# runs already in the record are skipped
import json, sys, time, warnings
from fastai.vision.all import *
from fastdeconv.all import *
from fastdeconv.learner import _split_model
warnings.filterwarnings('ignore')
out = Path('cifar10_cpu.jsonl')
archive = Path('../../../shared/data/cifar10-train.tgz')

def cifar_dls(seed=42): return get_dls(archive, bs=64, n_items=10_000, valid_pct=0.1, seed=seed, stats=cifar_stats, verify=False)

def log(**kw):
    with out.open('a') as f: f.write(json.dumps(kw)+'\n')

def opts(kwargs):
    "A run's options as the record keeps them"
    return {k:str(v) for k,v in kwargs.items()}

def run(tag, arch, epochs, seed=0, usual=False, recipe=False, save=None, **kwargs):
    "Train `arch` (the usual fastai way if `usual`, plus `deconv_learner`'s recipe if `recipe`, its precise statistics only if 'precise'; else with `deconv_learner`'s defaults) and log accuracy, losses and times"
    set_seed(seed, reproducible=True)
    dls = cifar_dls()
    cbs = [EpochTimer()]
    if usual:
        model,splitter = _split_model(arch(n_out=10), arch) if recipe else (arch(n_out=10), trainable_params)
        if recipe: cbs += [PreciseDeconvStats(every_epoch=True)] + ([StemLR(10)] if recipe is True else [])
        learn = Learner(dls, model, metrics=accuracy, cbs=cbs, splitter=splitter, **(dict(wd=1e-2, lr=1e-2)|kwargs))
    else: learn = deconv_learner(dls, arch, cbs=cbs, **kwargs)
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs)
    losses = [float(o) for o in learn.recorder.losses]
    log(tag=tag, arch=arch.__name__, epochs=epochs, seed=seed, usual=usual, **({'recipe':recipe} if recipe else {}), kwargs=opts(kwargs),
        accs=[float(v[2]) for v in learn.recorder.values], valid_loss=[float(v[1]) for v in learn.recorder.values],
        s_per_epoch=learn.epoch_timer.times, losses=losses[::5], finite=all(map(math.isfinite, losses)),
        params=sum(p.numel() for p in learn.model.parameters()), torch=torch.__version__, threads=torch.get_num_threads())
    if save: torch.save(learn.model[0][0][0].state_dict(), save)

plan = [('bar', xresnet18, 3, dict(seed=s, usual=True)) for s in range(3)] + \
       [('bar', deconv_xresnet18, 3, dict(seed=s)) for s in range(3)]
plan = [plan[i] for i in (0, 3, 1, 4, 2, 5)]
plan += [('budget', a, 1, {}) for a in (xresnet18, deconv_xresnet18, deconv_xresnet18_all)]
plan += [('budget', deconv_xresnet18_all, 3, {})]
plan += [('sgd', a, 3, dict(opt_func=partial(SGD, mom=0.9), lr=1.0)) for a in (deconv_xresnet18, xresnet18)]
plan += [('sgd_stem1', deconv_xresnet18, 3, dict(opt_func=partial(SGD, mom=0.9), lr=1.0, stem_lr_mult=1))]
plan += [('budget', xresnet18, 10, {}), ('budget', deconv_xresnet18, 10, dict(save='deconv_stem_10ep.pth')),
         ('budget', deconv_xresnet18_all, 10, {})]
allk = dict(lr=3e-3, stem_lr_mult=1)
lever = lambda arch, s, **kw: ('levers', arch, 3, dict(seed=s, **kw))
plan += [lever(deconv_xresnet18, s, grad_stats=True) for s in range(3)] + [lever(deconv_xresnet18_all, 0, grad_stats=True, **allk)]
plan += [lever(deconv_xresnet18, s, grad_stats=False) for s in range(3)] + [lever(deconv_xresnet18_all, 0, grad_stats=False, **allk)]
plan += [lever(deconv_xresnet18_all, 1, grad_stats=True, **allk)] # grad_stats=False did not train on seed 0
# Runs recorded before `stats_every` existed computed the statistics on every step, the default then
k4 = lambda arch, s, **kw: lever(arch, s, stats_every=4, **kw)
plan += [k4(deconv_xresnet18_all, 0, **allk)] # did not train on seed 0, as without gradients through the statistics
plan += [k4(deconv_xresnet18, s) for s in range(3)] + [lever(deconv_xresnet18_all, 2, grad_stats=True, **allk)]
# xresnet18's learning rate from the grid the stem's was picked from (gpu_sweep.py: Adam 3e-3, 1e-2, 2e-2); 1e-2 is `bar`
plan += [('grid', xresnet18, 3, dict(usual=True, lr=lr)) for lr in (3e-3, 2e-2)]

# The learner's recipe (`PreciseDeconvStats` before every validation, which recomputes BatchNorm's statistics too, and
# `StemLR` x10) given to xresnet18, and taken from the stem (the plain fastai `Learner`, as xresnet18's usual runs)
plan += [('recipe', a, 3, dict(seed=s, usual=True, recipe=a is xresnet18)) for s in range(3) for a in (xresnet18, deconv_xresnet18)]
# xresnet18 lost with StemLR (55.3% on seed 0 against 60.0%): given `PreciseDeconvStats` alone as well
plan += [('recipe', xresnet18, 3, dict(seed=s, usual=True, recipe='precise')) for s in range(3)]
# and the stem given `deconv_learner`'s recipe without `StemLR`: precise statistics alone, as xresnet18 above
plan += [('recipe', deconv_xresnet18, 3, dict(seed=s, stem_lr_mult=1)) for s in range(3)]

def key(tag, arch, epochs, seed=0, usual=False, recipe=False, save=None, **kwargs):
    "What identifies a run in the record"
    return tag, arch.__name__, epochs, seed, usual, recipe, json.dumps(opts(kwargs))

done = {(d['tag'], d['arch'], d['epochs'], d['seed'], d['usual'], d.get('recipe', False), json.dumps(d['kwargs'])) for d in map(json.loads, out.read_text().splitlines())
        if 'superseded' not in d} # a superseded run is run again
only = sys.argv[sys.argv.index('--only')+1] if '--only' in sys.argv else None
for tag,arch,epochs,kw in plan:
    if only in (None, tag) and key(tag, arch, epochs, **kw) not in done: run(tag, arch, epochs, **kw)
