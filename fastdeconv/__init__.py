"""Network deconvolution for fastai: whitened convolutions that replace BatchNorm and train at high learning rates

Modules:

- `fastdeconv.data`: `get_dls`: one entry point for the embedded datasets (handwritten digits, synthetic multi-band galaxies), fastai's datasets, and image folders or archives"""

__version__ = "0.0.1"
