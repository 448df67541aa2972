"""fastprop: compiled drop-in layers for Deep Learning from Scratch."""
