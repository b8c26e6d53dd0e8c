from .core import *
from .layers import *
from .models import *
