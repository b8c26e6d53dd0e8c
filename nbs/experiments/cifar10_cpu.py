"CIFAR-10 experiments of `12_cifar10.ipynb` on CPU: each run appends one JSON line to `cifar10_cpu.jsonl`"
# Run from nbs/experiments: OMP_NUM_THREADS=2 python cifar10_cpu.py [--only TAG]; the runs of one tag with --only;
# runs already in the record are skipped
import json, re, statistics, sys, time, warnings
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

def longer(dl, scale):
    "`dl` with `scale` times as many items per epoch, those past the dataset's end drawn again: the steps of `scale` times the seconds"
    n = len(dl.dataset)
    dl.n,dl.create_item = round(n*scale),lambda s: dl.dataset[s%n]

def run(tag, arch, epochs, seed=0, usual=False, recipe=False, save=None, scale=1, **kwargs):
    "Train `arch` (the usual fastai way if `usual`, plus `deconv_learner`'s recipe if `recipe`, its precise statistics only if 'precise'; else with `deconv_learner`'s defaults), epochs `scale` times as long, and log accuracy, losses and times"
    set_seed(seed, reproducible=True)
    dls = cifar_dls()
    if scale!=1: longer(dls.train, scale)
    cbs = [EpochTimer()]
    if usual:
        model,splitter = _split_model(arch(n_out=10), arch) if recipe else (arch(n_out=10), trainable_params)
        if recipe: cbs += [PreciseDeconvStats(every_epoch=True)] + ([StemLR(10)] if recipe is True else [])
        learn = Learner(dls, model, metrics=accuracy, cbs=cbs, splitter=splitter, **(dict(wd=1e-2, lr=1e-2)|kwargs))
    else: learn = deconv_learner(dls, arch, cbs=cbs, **kwargs)
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs)
    losses = [float(o) for o in learn.recorder.losses]
    log(tag=tag, arch=arch.__name__, epochs=epochs, seed=seed, usual=usual, **({'recipe':recipe} if recipe else {}),
        **({'scale':scale} if scale!=1 else {}), kwargs=opts(kwargs),
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
# The fully deconvolved network at its defaults (those of `allk`, with gradients through the statistics) once `FastDeconv`
# whitens the patches instead of folding where a layer sees fewer patches than it has outputs (the last stage here): the
# same function, rounded otherwise, against the `levers` runs above
plan += [('whiten', deconv_xresnet18_all, 3, dict(seed=s)) for s in range(3)]
# xresnet18's learning rate from the grid the stem's was picked from (gpu_sweep.py: Adam 3e-3, 1e-2, 2e-2); 1e-2 is `bar`
plan += [('grid', xresnet18, 3, dict(usual=True, lr=lr)) for lr in (3e-3, 2e-2)]
# The fully deconvolved network's learning rate had been picked from two settings only (1e-2 with `StemLR` x10, 3e-3
# without): at 1e-2 without it (seed 0), and weight decay 1e-1 given to it and to xresnet18 (a lever for both; seeds 1-2
# were run after seed 0 had helped both)
plan += [('grid_all', deconv_xresnet18_all, 3, dict(lr=1e-2))]
plan += [('grid_all', a, 3, dict(seed=s, wd=0.1, **kw)) for s in range(3)
         for a,kw in ((deconv_xresnet18_all, {}), (xresnet18, dict(usual=True)))]
# and at one epoch, to decide whether 1e-1 becomes the fully deconvolved network's default (given to both again)
plan += [('grid_all', a, 1, dict(seed=s, wd=0.1, **kw)) for s in range(3)
         for a,kw in ((deconv_xresnet18_all, {}), (xresnet18, dict(usual=True)))]
# 1e-1 became its default (the fully deconvolved runs of this script without `wd` in their options ran at 1e-2, the
# default then: pass wd=1e-2 to run them again as recorded); the next step of the grid, 3e-1, on both (seed 0 first)
plan += [('grid_all', a, 3, dict(wd=0.3, **kw)) for a,kw in ((deconv_xresnet18_all, {}), (xresnet18, dict(usual=True)))]
plan += [('grid_all', xresnet18, 3, dict(seed=s, wd=0.3, usual=True)) for s in (1, 2)] # it helped xresnet18 on seed 0

# The learner's recipe (`PreciseDeconvStats` before every validation, which recomputes BatchNorm's statistics too, and
# `StemLR` x10) given to xresnet18, and taken from the stem (the plain fastai `Learner`, as xresnet18's usual runs)
plan += [('recipe', a, 3, dict(seed=s, usual=True, recipe=a is xresnet18)) for s in range(3) for a in (xresnet18, deconv_xresnet18)]
# xresnet18 lost with StemLR (55.3% on seed 0 against 60.0%): given `PreciseDeconvStats` alone as well
plan += [('recipe', xresnet18, 3, dict(seed=s, usual=True, recipe='precise')) for s in range(3)]
# and the stem given `deconv_learner`'s recipe without `StemLR`: precise statistics alone, as xresnet18 above
plan += [('recipe', deconv_xresnet18, 3, dict(seed=s, stem_lr_mult=1)) for s in range(3)]

def _kw(d): return re.sub(r' at 0x[0-9a-f]+', '', json.dumps(d)) # a function's address differs between processes

def key(tag, arch, epochs, seed=0, usual=False, recipe=False, save=None, scale=1, **kwargs):
    "What identifies a run in the record"
    return tag, arch.__name__, epochs, seed, usual, recipe, scale, _kw(opts(kwargs))

def records(): return [d for d in map(json.loads, out.read_text().splitlines()) if 'superseded' not in d] # a superseded run is run again

def done(): return {(d['tag'], d['arch'], d['epochs'], d['seed'], d['usual'], d.get('recipe', False), d.get('scale', 1), _kw(d['kwargs'])) for d in records()}

# Fair comparison at 1 and 10 epochs (3 are above): `deconv_learner`'s stem against xresnet18 the usual way (its best lr of
# the grid) and with precise statistics (its best recipe above); the fully deconvolved network with its defaults. The
# one-epoch runs of a seed run back to back, so their seconds pair up by seed for the equal wall-clock runs below.
fair = dict(usual=(xresnet18, dict(usual=True)), precise=(xresnet18, dict(usual=True, recipe='precise')),
            stem=(deconv_xresnet18, {}), all=(deconv_xresnet18_all, {}))
plan += [('fair', a, 1, dict(seed=s, **kw)) for s in range(3) for a,kw in fair.values()]

def time_ratio(base, tag='fair'):
    "Median over seeds of the stem's one-epoch seconds over those of xresnet18 `base` ('usual' or 'precise'), the runs of one seed (tag `tag`) back to back"
    def secs(nm):
        a,kw = fair[nm]
        return {d['seed']:sum(d['s_per_epoch']) for d in records() if d['tag']==tag and d['epochs']==1 and d['arch']==a.__name__
                and d['usual']==kw.get('usual', False) and d.get('recipe', False)==kw.get('recipe', False) and 'scale' not in d
                and d['kwargs']=={}}
    st,b = secs('stem'),secs(base)
    return round(statistics.median(st[s]/b[s] for s in st.keys()&b.keys()), 2)

# Equal wall-clock: xresnet18 given the seconds the stem took, its epochs made `time_ratio` times longer (tagged as the
# runs that measured the seconds)
def equal_time(epochs, tag='fair'):
    return [(tag, a, epochs, dict(seed=s, scale=time_ratio(nm, tag), **kw)) for s in range(3) for nm,(a,kw) in fair.items()
            if nm in ('usual','precise')]
# The stem with precise statistics and no `StemLR` at one epoch, as xresnet18 with precise statistics (the recipe on both)
share = [('fair', deconv_xresnet18, 1, dict(seed=s, stem_lr_mult=1)) for s in range(3)]
# 10 epochs: the stem and xresnet18 the usual way, seeds 0-2 (xresnet18 with precise statistics at seed 0 is the `budget`
# run: `deconv_learner` trains it exactly so)
ten = [('fair', a, 10, dict(seed=s, **kw)) for s in range(3) for a,kw in (fair['stem'], fair['usual'])]

# The `fair` runs' seconds were taken on a shared machine whose load varied between runs (xresnet18's one-epoch run took
# 71 to 101 s, the paired ratios spread from 1.00x to 1.34x): the same one-epoch runs again, back to back by seed, on the
# machine at rest (load average near 0), tag `quiet`, and the equal wall-clock runs at those ratios (a run repeated at
# a seed does not repeat its accuracy exactly: these are further samples)
quiet = [('quiet', a, 1, dict(seed=s, **kw)) for s in range(3) for nm,(a,kw) in fair.items() if nm!='all']

# A lever of the win issue: the classifier a `DeconvLinear` (whitened features, as the paper's VGG classifier, one block
# of 512) instead of `nn.Linear`, at each network's defaults (passed), seeds 0-2 at 1 and 3 epochs, tag `head`: the
# fully deconvolved network; then (it gained 7 points at one epoch) the stem, and as controls xresnet18 the usual way
# with the same classifier and with BatchNorm's counterpart, a `BatchNorm1d` before its `nn.Linear`
def new_head(arch, head, nm):
    "`arch` with `head(linear)` for its classifier, split as `arch`"
    def f(**kwargs):
        m = arch(**kwargs)
        m[-1] = head(m[-1])
        return m
    f.__name__ = f'{arch.__name__}_{nm}'
    model_meta[f] = model_meta[arch]
    return f
def dlin(arch): return new_head(arch, lambda l: DeconvLinear(*l.weight.shape[::-1]), 'dlin')
def bnlin(arch): return new_head(arch, lambda l: nn.Sequential(nn.BatchNorm1d(l.in_features), l), 'bnlin')
# `deconv_xresnet18_all` has had this classifier since (its runs above, without `head` in their tag, had an `nn.Linear`):
# the `head` runs of `deconv_xresnet18_all_dlin` are those of the current `deconv_xresnet18_all`
head_all = [('head', dlin(deconv_xresnet18_all), e, dict(seed=s, lr=3e-3, wd=0.1, stem_lr_mult=1)) for e in (1, 3) for s in range(3)]
head = [('head', a, e, dict(seed=s, **kw)) for e in (1, 3) for s in range(3)
        for a,kw in ((dlin(deconv_xresnet18), dict(lr=1e-2, wd=1e-2, stem_lr_mult=10)), (bnlin(xresnet18), dict(usual=True)),
                     (dlin(xresnet18), dict(usual=True)))]

only = sys.argv[sys.argv.index('--only')+1] if '--only' in sys.argv else None
def go(entries):
    for tag,arch,epochs,kw in entries:
        if only in (None, tag) and key(tag, arch, epochs, **kw) not in done(): run(tag, arch, epochs, **kw)
go(plan)
if only in (None, 'fair'): go(equal_time(1)); go(share); go(equal_time(3)); go(ten)
if only in (None, 'quiet'): go(quiet); go(equal_time(1, 'quiet')); go(equal_time(3, 'quiet'))
go(head_all); go(head)

# A lever of the cost issue: the fully deconvolved network's classifier whitened in blocks of 64 features (eight blocks
# sharing one 64x64 covariance) rather than one block of 512, whose Newton-Schulz iterations on a 512x512 matrix cost
# about 0.2x of xresnet18's training step at batch 128 and 32 px; seeds 0-2 at 1 and 3 epochs, tag `head64`
head64 = [('head64', new_head(deconv_xresnet18_all, lambda l: DeconvLinear(l.ni, l.nf, block=64), 'dlin64'), e,
           dict(seed=s, lr=3e-3, wd=0.1, stem_lr_mult=1)) for e in (1, 3) for s in range(3)]
go(head64)

# A lever of the cost issue: the fully deconvolved network's statistics from patches sampled every 5 positions instead
# of 3 (the paper's), a third as many samples per covariance; seeds 0-2 at 1 and 3 epochs, tag `sample5`
sample5 = [('sample5', deconv_xresnet18_all, e, dict(seed=s, lr=3e-3, wd=0.1, stem_lr_mult=1, sampling_stride=5)) for e in (1, 3) for s in range(3)]
go(sample5)

# Levers of the cost issue tried again at the fully deconvolved network's current defaults (weight decay 0.1, the
# `DeconvLinear` classifier; at 1e-2 with `nn.Linear` neither trained, the `levers` runs above): the statistics on one
# step in 4, and no gradients through the statistics; seed 0 at 3 epochs first, tag `again`
again = [('again', deconv_xresnet18_all, 3, dict(seed=0, lr=3e-3, wd=0.1, stem_lr_mult=1, **kw)) for kw in (dict(stats_every=4), dict(grad_stats=False))]
go(again)

# The fully deconvolved network's epoch after the patches' gradient in one copy and the weight-major product (same
# numbers, less time): one-epoch runs at its defaults back to back with xresnet18 the usual way, seeds 0-2, on the
# machine at rest, tag `speed`
speed = [('speed', a, 1, dict(seed=s, **kw)) for s in range(3) for a,kw in ((xresnet18, dict(usual=True)), (deconv_xresnet18_all, {}))]
go(speed)

# Gradients through the statistics where they pay (a lever of the cost issue): the fully deconvolved network without
# them in its stem's three layers only (their statistics cost the most per layer at 32 px; the stem network trains
# without them, the `levers` runs), with them everywhere else; seed 0 at 3 epochs first (it matched the defaults), then
# seeds 1-2 and one epoch, tag `stemgrad`. `convert_deconv` has made this the default since: these runs are those of
# the current `deconv_xresnet18_all`, recorded under the name below
def deconv_xresnet18_all_stemnograd(**kwargs): return deconv_xresnet18_all(**kwargs)
model_meta[deconv_xresnet18_all_stemnograd] = model_meta[deconv_xresnet18_all]
stemgrad = [('stemgrad', deconv_xresnet18_all_stemnograd, e, dict(seed=s, lr=3e-3, wd=0.1, stem_lr_mult=1)) for e,s in ((3,0), (3,1), (3,2), (1,0), (1,1), (1,2))]
go(stemgrad)

# The same lever one stage further: the fully deconvolved network (its stem without, the default) without gradients
# through the statistics of its last stage's five layers (on 2x2 and 1x1 maps at 32 px, where the statistics' backward
# is most of the layer's extra cost); seed 0 at 3 epochs first, tag `lastgrad`: 59.6% against 62.2% for the defaults on
# that seed (the `stemgrad` run), so not run further
def nograd(arch, idx, nm):
    "`arch` with `grad_stats=False` in the deconvolution layers of its children `idx` too"
    def f(**kwargs):
        m = arch(**kwargs)
        for o in (o for i in idx for o in deconv_modules(m[i])): o.grad_stats = False
        return m
    f.__name__ = f'{arch.__name__}_{nm}'
    model_meta[f] = model_meta[arch]
    return f
lastgrad = [('lastgrad', nograd(deconv_xresnet18_all, (7,), 'lastnograd'), e, dict(seed=s)) for e,s in ((3,0),)]
go(lastgrad)

# The fully deconvolved network's epoch after the cheaper statistics with the same numbers (Newton-Schulz in the rows'
# space for the classifier and by the eigenvalues on the CPU, the one live kernel position on 1-pixel maps) and without
# gradients through its stem's statistics (the default since `stemgrad`): one-epoch runs at its defaults back to back
# with xresnet18 the usual way, seeds 0-2, on the machine at rest, tag `exact`
exact = [('exact', a, 1, dict(seed=s, **kw)) for s in range(3) for a,kw in ((xresnet18, dict(usual=True)), (deconv_xresnet18_all, {}))]
go(exact)
# and the deconvolution stem at its defaults with the same exact changes (its layers back-propagate through their
# statistics, so Newton-Schulz from the eigenvalues and the kept centred samples are its changes), seeds 0-2 at 3 epochs,
# against the `levers` runs with `stats_every=4` (its defaults since), tag `exact`
go([('exact', deconv_xresnet18, 3, dict(seed=s)) for s in range(3)])
# and the same three runs with the code of git 19ed78f, before those changes, in the same session (tag `exact_base`;
# made with a worktree at that commit first on the path: `git worktree add /tmp/wt 19ed78f`, then from this directory
# `PYTHONPATH=/tmp/wt OMP_NUM_THREADS=2 python cifar10_cpu.py --only exact_base`)
go([('exact_base', deconv_xresnet18, 3, dict(seed=s)) for s in range(3)])
