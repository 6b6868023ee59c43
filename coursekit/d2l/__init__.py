"""Drop-in for the d2l helpers of the CNN chapters: ``from coursekit import d2l``.

Code written for *Dive into Deep Learning* runs unchanged on top of coursekit,
with its device-resident data and fast training loop underneath:

* the English edition 1.0 (``from d2l import torch as d2l``): its class API,
  :class:`~coursekit.d2l.classes.Classifier`, :class:`~coursekit.d2l.classes.Trainer`,
  :class:`~coursekit.d2l.classes.FashionMNIST` and the rest (:mod:`.classes`);
* the Chinese edition 2.0 and the older ``d2lzh_pytorch``: their function API,
  ``train_ch6``, ``train_ch5``, ``Animator``... (:mod:`.functions`);
* both editions' tensor shortcuts, ``d2l.tensor``, ``d2l.reshape``... (:mod:`.shortcuts`).
"""

from . import classes, functions, shortcuts
from .classes import *  # noqa: F403
from .functions import *  # noqa: F403
from .shortcuts import *  # noqa: F403

__all__ = sorted({*classes.__all__, *functions.__all__, *shortcuts.__all__})
