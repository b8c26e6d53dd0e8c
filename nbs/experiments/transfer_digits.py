"Transfer-learning experiment of `15_transfer.ipynb`: each result one JSON line of `transfer_digits.jsonl`, rewritten by each run"
# Run from nbs/experiments: OMP_NUM_THREADS=2 python transfer_digits.py
# Each line has the code (git commit, dirty) and the machine; the fine-tunes' and the pretraining's the settings they resolved
import json, time, warnings
from copy import deepcopy
from fastai.vision.all import *
from fastdeconv.all import *
warnings.filterwarnings('ignore')
out,archive = Path('transfer_digits.jsonl'),Path('../../../shared/data/cifar10-train.tgz')
weights = Path(tempfile.gettempdir())/'fastdeconv_transfer'/'cifar_xresnet18.pth'

def log(learn=None, **kw):
    rec = dict(learner_settings(learn) if learn else {}, **kw, **code_state(), **machine_state(), date=time.strftime('%Y-%m-%d %H:%M'))
    with out.open('a') as f: f.write(json.dumps(rec)+'\n')

def cifar_xresnet18(pretrained=False, **kwargs):
    "fastai's xresnet18 for 10 classes, with the weights pretrained on CIFAR-10 below if `pretrained`"
    m = xresnet18(n_out=10, **kwargs)
    if pretrained: m.load_state_dict(torch.load(weights))
    return m
model_meta[cifar_xresnet18] = {**model_meta[xresnet18]}

# 1. pretrain a BatchNorm xresnet18 on 8,000 CIFAR-10 images at 16x16 (7,200 to train)
set_seed(0, reproducible=True)
cifar = get_dls(archive, bs=128, size=16, n_items=8_000, valid_pct=0.1, seed=42, stats=cifar_stats, verify=False)
out.unlink(missing_ok=True)
learn = Learner(cifar, xresnet18(n_out=10), lr=1e-2, wd=1e-2, metrics=accuracy, cbs=EpochTimer())
with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(2)
weights.parent.mkdir(exist_ok=True)
torch.save(learn.model.state_dict(), weights)
log(learn, step='pretrain', data='cifar10', n_items=8_000, size=16, epochs=2, accs=[float(v[2]) for v in learn.recorder.values],
    s_per_epoch=learn.epoch_timer.times)
bn = learn.model

# 2. right after conversion: each network on the CIFAR-10 validation set, and how far its outputs are from the BN network's
bn = bn.eval()
xb = cifar.valid.one_batch()[0]
def rel(a, b): return float((a-b).abs().max()/b.abs().max())
for where in ('stem','all'):
    for preserve in (False, True):
        set_seed(0)
        m = convert_deconv(deepcopy(bn), where, **(dict(dl=cifar.train, n_batches=10) if preserve else {})).eval()
        loss,acc = Learner(cifar, m, loss_func=CrossEntropyLossFlat(), metrics=accuracy).validate()
        with torch.no_grad(): diff = rel(m(xb), bn(xb)); diff_train = rel(deepcopy(m).train()(xb), deepcopy(bn).train()(xb))
        log(step='converted', where=where, preserve_outputs=preserve, valid_loss=float(loss), acc=float(acc), rel_diff_eval=diff,
            rel_diff_train=diff_train)
loss,acc = Learner(cifar, bn, loss_func=CrossEntropyLossFlat(), metrics=accuracy).validate()
with torch.no_grad(): log(step='converted', where='none', preserve_outputs=None, valid_loss=float(loss), acc=float(acc), rel_diff_eval=0.,
                          rel_diff_bn_train_eval=rel(deepcopy(bn).train()(xb), bn(xb)))

# 3. fine-tune on 600 of the embedded digits (1 channel, 10 classes, 16x16) with `fine_tune(5)`, recording each unfrozen epoch
digits = get_dls('digits', bs=64, size=16, n_items=600)
for where,preserve in ((None,None), ('stem',False), ('stem',True), ('all',False), ('all',True)):
    set_seed(0, reproducible=True)
    if where is None: learn = vision_learner(digits, cifar_xresnet18, n_in=1, wd=1e-2, metrics=accuracy, cbs=EpochTimer())
    else: learn = deconv_learner(digits, cifar_xresnet18, pretrained=True, where=where, preserve_outputs=preserve, cbs=EpochTimer())
    with learn.no_bar(), learn.no_logging():
        start = learn.validate()
        learn.fine_tune(5)
    log(learn, step='fine_tune', data='digits', n_items=600, size=16, epochs=5, lr=2e-3, schedule='fine_tune(5): base_lr 2e-3, lr_mult 100 (fastai defaults)', where=where or 'none', preserve_outputs=preserve,
        start_loss=float(start[0]), start_acc=float(start[1]),
        accs=[float(v[2]) for v in learn.recorder.values], valid_loss=[float(v[1]) for v in learn.recorder.values],
        s_per_epoch=learn.epoch_timer.times)
