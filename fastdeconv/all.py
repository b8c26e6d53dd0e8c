from .core import *
from .layers import *
from .models import *
from .callbacks import *
from .distributed import *
from .learner import *
from .data import *
from .paper import *
from .records import *
from .compare import compare_archs, compare_report
from .bench import bench_deconv, bench_report
