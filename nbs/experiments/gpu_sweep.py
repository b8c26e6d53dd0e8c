"""CUDA and mixed-precision checks of fastdeconv, then a CIFAR-10 hyper-parameter sweep on a GPU; results to $OUT.

Run from the repository root with the CIFAR-10 training archive at `.gpu/cifar10-train.tgz` (fastai's folder layout):
`OUT=out BUDGET=390 python nbs/experiments/gpu_sweep.py`. Each line of `$OUT/results.jsonl` is one check or run;
`gpu_sweep_h200.jsonl` beside this file is its output on an NVIDIA H200 (lr_find curves in `lr_find_cifar10_h200.json`).
`BUDGET` (seconds) skips the runs that would start after it; `SMOKE=1` is a quick run on 200 images."""
import os, sys, json, time, tarfile, math, traceback, warnings
warnings.filterwarnings('ignore')
from pathlib import Path
import numpy as np, torch
from PIL import Image
from fastai.vision.all import *
from fastdeconv.all import *

SMOKE = bool(os.environ.get('SMOKE'))
OUT = Path(os.environ.get('OUT', '/tmp/out'))
OUT.mkdir(parents=True, exist_ok=True)
dev = 'cuda' if torch.cuda.is_available() else 'cpu'
t_start = time.time()
BUDGET = float(os.environ.get('BUDGET', 1e9))
def log(**kw):
    kw['t'] = round(time.time()-t_start, 1)
    print(json.dumps(kw), flush=True)
    with open(OUT/'results.jsonl', 'a') as f: f.write(json.dumps(kw)+'\n')

log(kind='env', torch=torch.__version__, dev=dev, gpu=torch.cuda.get_device_name() if dev=='cuda' else None)

# ---- CUDA and mixed-precision checks
def check(name, f):
    try: log(kind='check', name=name, **f())
    except Exception as e: log(kind='check', name=name, error=repr(e), tb=traceback.format_exc()[-2000:])

def ac_layer():
    dc = FastDeconv(3, 16).to(dev).train()
    x = torch.randn(8, 3, 32, 32, device=dev)
    with torch.autocast(dev, dtype=torch.float16):
        y = dc(x); mean,deconv = dc.batch_stats(x)
    y.float().sum().backward()
    return dict(out_dtype=str(y.dtype), stats_dtype=str(deconv.dtype), buf_dtype=str(dc.running_deconv.dtype),
                finite=bool(y.isfinite().all() and dc.weight.grad.isfinite().all()))
def eval_fold():
    m = deconv_xresnet18_all(n_out=10, block=16).to(dev)
    x = torch.randn(16, 3, 32, 32, device=dev)
    for _ in range(3): m(x)
    m.eval(); f = fold_deconv(m)
    with torch.no_grad(): d = (f(x)-m(x)).abs().max().item()
    return dict(max_abs_diff=d)

check('autocast_fp16_layer', ac_layer)
check('fold_deconv_cuda', eval_fold)

# ---- CIFAR-10 subset, the same 10,000 images and split as the CPU experiments
root = Path('/tmp/cifar')
if not (root/'cifar10').exists():
    with tarfile.open('.gpu/cifar10-train.tgz') as t: t.extractall(root)
files = get_image_files(root/'cifar10'/'train').sorted()
idx = torch.randperm(len(files), generator=torch.Generator().manual_seed(0))[:10000 if not SMOKE else 200].tolist()
items = L(files[i] for i in idx)
vocab = sorted({f.parent.name for f in items})
x = torch.tensor(np.stack([np.asarray(Image.open(f).convert('RGB')) for f in items])).permute(0, 3, 1, 2).float()/255
y = torch.tensor([vocab.index(f.parent.name) for f in items])
mean,std = torch.tensor(cifar_stats[0]).view(1,3,1,1),torch.tensor(cifar_stats[1]).view(1,3,1,1)
x = (x-mean)/std
tr,va = RandomSplitter(0.1, seed=42)(items)
def dset(ii): return [(TensorImage(x[i]), TensorCategory(y[i])) for i in ii]
def get_dls(bs=64): return DataLoaders.from_dsets(dset(tr), dset(va), bs=bs, device=dev, num_workers=0)
dls = get_dls()
log(kind='data', n_train=len(tr), n_valid=len(va), load_s=round(time.time()-t_start, 1))

archs = dict(xresnet18=xresnet18, deconv_xresnet18=deconv_xresnet18, deconv_xresnet18_all=deconv_xresnet18_all)
opts = dict(adam=Adam, sgd=partial(SGD, mom=0.9))

def run(arch, opt='adam', lr=1e-2, wd=1e-2, seed=0, epochs=3, cbs=(), fp16=False, bf16=False, tag='', **mkw):
    if time.time()-t_start > BUDGET: return log(kind='skip', arch=arch, tag=tag)
    set_seed(seed)
    learn = Learner(dls, archs[arch](n_out=10, **mkw), wd=wd, opt_func=opts[opt], metrics=accuracy, loss_func=CrossEntropyLossFlat(),
                    cbs=[o() for o in cbs])
    if fp16: learn = learn.to_fp16()
    if bf16: learn = learn.to_bf16()
    t = time.time()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs if not SMOKE else 1, lr)
    accs = [float(v[2]) for v in learn.recorder.values]
    log(kind='run', arch=arch, opt=opt, lr=lr, wd=wd, seed=seed, tag=tag, cbs=[o.__name__ for o in cbs], fp16=fp16,
        bf16=bf16, mkw=mkw, accs=accs, acc=accs[-1], nan=not all(map(math.isfinite, learn.recorder.losses)),
        s=round(time.time()-t, 1))
    return learn

def lrfind(arch, opt='adam', wd=1e-2, seed=0, **mkw):
    if time.time()-t_start > BUDGET: return log(kind='skip', arch=arch, tag='lr_find')
    set_seed(seed)
    learn = Learner(dls, archs[arch](n_out=10, **mkw), wd=wd, opt_func=opts[opt], metrics=accuracy, loss_func=CrossEntropyLossFlat())
    with learn.no_bar(): s = learn.lr_find(suggest_funcs=(minimum, steep, valley, slide), show_plot=False)
    log(kind='lr_find', arch=arch, opt=opt, sugg=[float(o) for o in s], lrs=[float(o) for o in learn.recorder.lrs],
        losses=[float(o) for o in learn.recorder.losses])

# fp16 training on CUDA (issue: mixed precision), then the sweep, most important first
check('to_fp16_train', lambda: dict(acc=run('deconv_xresnet18', fp16=True, tag='fp16').recorder.values[-1][2]))
check('to_bf16_train', lambda: dict(acc=run('deconv_xresnet18', bf16=True, tag='bf16').recorder.values[-1][2]))
for s in (0, 1, 2):
    run('xresnet18', seed=s, tag='base')
    run('deconv_xresnet18', seed=s, tag='base')
for a in ('xresnet18', 'deconv_xresnet18'):
    for o in ('adam', 'sgd'): lrfind(a, o)
for lr in (3e-3, 2e-2):
    run('deconv_xresnet18', lr=lr, tag='adam_lr')
for wd in (3e-2, 1e-1):
    for lr in (1e-2, 2e-2): run('deconv_xresnet18', lr=lr, wd=wd, tag='adam_wd')
for lr in (0.1, 0.3, 1.0):
    for wd in (1e-3, 1e-2): run('deconv_xresnet18', opt='sgd', lr=lr, wd=wd, tag='sgd')
for lr in (0.1, 1.0): run('xresnet18', opt='sgd', lr=lr, wd=1e-3, tag='sgd_bn')
run('deconv_xresnet18', cbs=(InitDeconvStats, PreciseDeconvStats), tag='cbs')
run('deconv_xresnet18_all', tag='all')
run('deconv_xresnet18_all', block=16, tag='all')
lrfind('deconv_xresnet18_all', 'sgd')
for s in (1, 2):
    for lr,wd in ((2e-2, 3e-2), (1e-2, 1e-1)): run('deconv_xresnet18', lr=lr, wd=wd, seed=s, tag='seeds')
log(kind='done')
