"""The book's networks: vol. 1 ch. 5's TwoLayerNet (also vol. 2's spiral model), ch. 6's
MultiLayerNet / MultiLayerNetExtend, ch. 7's SimpleConvNet and ch. 8's DeepConvNet; vol. 2
ch. 4's CBOW and SkipGram; ch. 6's Rnnlm and BetterRnnlm (and their BaseModel), ch. 7's RnnlmGen and BetterRnnlmGen;
ch. 7-8's Seq2seq, PeekySeq2seq and AttentionSeq2seq with their encoders and decoders.

``fused`` holds the Python side of the compiled training steps; ``params`` the parameter
dict that keeps a net's layers bound to the arrays it holds.
"""
from .._lazy import exports

__getattr__, __dir__, _names = exports(__name__, {
    ".base_model": ["BaseModel"],
    ".convnets": ["DeepConvNet", "SimpleConvNet"],
    ".multi_layer": ["MultiLayerNet", "MultiLayerNetExtend"],
    ".rnnlm": ["BetterRnnlm", "Rnnlm"],
    ".rnnlm_gen": ["BetterRnnlmGen", "RnnlmGen"],
    ".seq2seq": ["AttentionDecoder", "AttentionEncoder", "AttentionSeq2seq", "Decoder", "Encoder",
                 "PeekyDecoder", "PeekySeq2seq", "Seq2seq", "eval_seq2seq_batch"],
    ".two_layer": ["TwoLayerNet"],
    ".word2vec": ["CBOW", "SkipGram"],
})

__all__ = ["AttentionDecoder", "AttentionEncoder", "AttentionSeq2seq", "BaseModel", "BetterRnnlm", "BetterRnnlmGen",
           "CBOW", "Decoder", "DeepConvNet", "Encoder", "MultiLayerNet", "MultiLayerNetExtend", "PeekyDecoder",
           "PeekySeq2seq", "Rnnlm", "RnnlmGen", "Seq2seq", "SimpleConvNet", "SkipGram", "TwoLayerNet",
           "eval_seq2seq_batch"]
