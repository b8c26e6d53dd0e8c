from .core import *
from .layers import *
from .models import *
from .callbacks import *
from .learner import *
from .distributed import *
from .data import *
