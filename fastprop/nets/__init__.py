"""The book's networks: vol. 1 ch. 5's TwoLayerNet (also vol. 2's spiral model) and ch. 6's
MultiLayerNet / MultiLayerNetExtend, ch. 7's SimpleConvNet and ch. 8's DeepConvNet.

``fused`` holds the Python side of the compiled training steps; ``params`` the parameter
dict that keeps a net's layers bound to the arrays it holds.
"""
from .convnets import DeepConvNet, SimpleConvNet
from .multi_layer import MultiLayerNet, MultiLayerNetExtend
from .two_layer import TwoLayerNet

__all__ = ["DeepConvNet", "MultiLayerNet", "MultiLayerNetExtend", "SimpleConvNet", "TwoLayerNet"]
