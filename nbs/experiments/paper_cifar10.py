"The paper's CIFAR-10 setting (`14_paper_cifar10.ipynb`): each run appends one JSON line to `paper_cifar10.jsonl`"
# Run from nbs/experiments: OMP_NUM_THREADS=2 python paper_cifar10.py [RUN ...]; RUN names are the keys of `plan`
import json, sys, time, warnings
from pathlib import Path
import torch
from fastai.torch_core import set_seed
from fastdeconv.paper import paper_cifar_dls, paper_run
warnings.filterwarnings('ignore')
out = Path('paper_cifar10.jsonl')
archive = Path('../../../shared/data/cifar10-train.tgz')
plan = {'vgg16-bn': ('vgg16', False, None), 'vgg16-nd64': ('vgg16', True, 64), 'vgg16-nd16': ('vgg16', True, 16),
        'resnet18-bn': ('resnet18', False, None), 'resnet18-nd16': ('resnet18', True, 16),
        'resnet18-nd64': ('resnet18', True, 64)}
runs = sys.argv[1:] or list(plan)[:5]
if set(runs)-set(plan): sys.exit(f"Unknown runs {sorted(set(runs)-set(plan))}: choose from {', '.join(plan)}")
epochs,seed,bs = 1,0,128
dls = paper_cifar_dls(archive, bs=bs, valid_pct=0.1, seed=seed)
for name in runs:
    arch,deconv,block = plan[name]
    set_seed(seed)
    start = time.perf_counter()
    learn = paper_run(dls, arch, deconv, epochs, **(dict(block=block) if deconv else {}))
    secs = time.perf_counter()-start
    valid_loss,acc = learn.recorder.values[-1][1:]
    with out.open('a') as f:
        f.write(json.dumps(dict(run=name, arch=arch, deconv=deconv, block=block, epochs=epochs, seed=seed, bs=bs,
            n_train=len(dls.train_ds), n_valid=len(dls.valid_ds), accuracy=float(acc), valid_loss=float(valid_loss),
            train_loss=float(learn.recorder.losses[-1]), seconds=round(secs, 1), torch=torch.__version__,
            threads=torch.get_num_threads()))+'\n')
