"""Training: encoder pretraining with auxiliary heads, VQ-VAE, align and instruct stages."""
