"""The `vq_tokens` ablation (MotionGPT-style): a small VQ-VAE turns motion into discrete codes
(one per 4 frames) that the LLM reads as extra vocabulary entries.

"Codes enter the vocabulary" is done with a separate trainable table `code_embed` (codebook x
hidden) spliced at placeholder positions, the same mechanism as the continuous tokens. It is
equivalent to resizing the embeddings and training the new rows with peft's
`trainable_token_indices`, but it lives in LLaMo's own safetensors, so it survives save/load on
any backbone (peft does not save resized embeddings of the GGUF-derived default).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from llamo.model.config import LlamoConfig


class MotionVQVAE(nn.Module):
    """features (B, T, F) -> codes (B, ceil(T/4)) -> reconstruction (B, T, F)."""

    def __init__(self, cfg: LlamoConfig, width: int = 128):
        super().__init__()
        f, c = cfg.feature_dim, cfg.vq_dim
        self.down = cfg.vq_downsample  # 4 = two stride-2 convs
        self.enc = nn.Sequential(
            nn.Conv1d(f, width, 3, 1, 1), nn.GELU(),
            nn.Conv1d(width, width, 4, 2, 1), nn.GELU(),
            nn.Conv1d(width, width, 4, 2, 1), nn.GELU(),
            nn.Conv1d(width, c, 3, 1, 1),
        )  # fmt: skip
        self.codebook = nn.Embedding(cfg.vq_codebook, c)
        nn.init.uniform_(self.codebook.weight, -1.0 / cfg.vq_codebook, 1.0 / cfg.vq_codebook)
        self.dec = nn.Sequential(
            nn.Conv1d(c, width, 3, 1, 1), nn.GELU(),
            nn.ConvTranspose1d(width, width, 4, 2, 1), nn.GELU(),
            nn.ConvTranspose1d(width, width, 4, 2, 1), nn.GELU(),
            nn.Conv1d(width, f, 3, 1, 1),
        )  # fmt: skip

    def code_length(self, t: int) -> int:
        return -(-t // self.down)

    def _pad(self, x, mask):
        pad = (-x.shape[1]) % self.down
        return F.pad(x, (0, 0, 0, pad)), F.pad(mask, (0, pad), value=False)

    def encode_latent(self, x, mask):
        x, mask = self._pad(x * mask[..., None], mask)
        z = self.enc(x.transpose(1, 2)).transpose(1, 2)  # (B, T/4, c)
        code_mask = mask[:, :: self.down]
        return z, code_mask, x, mask

    def quantize(self, z):
        flat = z.reshape(-1, z.shape[-1])
        dist = (
            flat.pow(2).sum(1, keepdim=True)
            - 2 * flat @ self.codebook.weight.t()
            + self.codebook.weight.pow(2).sum(1)
        )
        codes = dist.argmin(1).view(z.shape[:-1])
        return codes, self.codebook(codes)

    @torch.no_grad()
    def encode(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> codes (B, T/4) long, code_mask (B, T/4) bool."""
        z, code_mask, _, _ = self.encode_latent(x, mask)
        codes, _ = self.quantize(z)
        return codes, code_mask

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> dict:
        t = x.shape[1]
        z, code_mask, xp, mp = self.encode_latent(x, mask)
        codes, q = self.quantize(z)
        commit = ((z - q.detach()).pow(2).mean(-1) * code_mask).sum() / code_mask.sum().clamp(min=1)
        embed = ((q - z.detach()).pow(2).mean(-1) * code_mask).sum() / code_mask.sum().clamp(min=1)
        q_st = z + (q - z).detach()
        recon = self.dec(q_st.transpose(1, 2)).transpose(1, 2)  # (B, T_pad, F)
        rec = ((recon - xp).pow(2).mean(-1) * mp).sum() / mp.sum().clamp(min=1)
        used = torch.bincount(codes[code_mask], minlength=self.codebook.num_embeddings).float()
        p = used / used.sum().clamp(min=1)
        perplexity = torch.exp(-(p * torch.log(p + 1e-10)).sum())
        return {
            "loss": rec + embed + 0.25 * commit,
            "recon_loss": rec.detach(),
            "commit_loss": commit.detach(),
            "perplexity": perplexity.detach(),
            "codes": codes,
            "recon": recon[:, :t],
        }


def train_vqvae(
    vq: MotionVQVAE,
    features: list[np.ndarray],
    *,
    steps: int = 2000,
    batch_size: int = 32,
    window: int = 64,
    lr: float = 3e-4,
    seed: int = 0,
    progress: Callable[[float, str], None] | None = None,
) -> dict:
    """Train the VQ-VAE on random windows of *normalised* feature arrays (T, F).
    Dead codes are re-seeded from encoder outputs every 200 steps. Returns the final metrics."""
    rng = np.random.default_rng(seed)
    device = next(vq.parameters()).device
    vq.train().requires_grad_(True)
    opt = torch.optim.AdamW(vq.parameters(), lr=lr)
    feats = [np.asarray(f, np.float32) for f in features if len(f) > 0]
    metrics: dict = {}
    start = time.perf_counter()
    for step in range(steps):
        batch = np.zeros((batch_size, window, feats[0].shape[1]), np.float32)
        mask = np.zeros((batch_size, window), bool)
        for i in range(batch_size):
            f = feats[rng.integers(len(feats))]
            s = int(rng.integers(max(1, len(f) - window + 1)))
            chunk = f[s : s + window]
            batch[i, : len(chunk)], mask[i, : len(chunk)] = chunk, True
        x, m = torch.from_numpy(batch).to(device), torch.from_numpy(mask).to(device)
        out = vq(x, m)
        opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        opt.step()
        if (step + 1) % 200 == 0:
            with torch.no_grad():  # re-seed unused codes
                z, cm, _, _ = vq.encode_latent(x, m)
                used = torch.zeros(vq.codebook.num_embeddings, dtype=torch.bool, device=device)
                used[out["codes"][cm]] = True
                dead = (~used).nonzero().squeeze(1)
                pool = z[cm]
                if len(dead) and len(pool):
                    pick = torch.randint(len(pool), (len(dead),), device=device)
                    vq.codebook.weight.data[dead] = pool[pick]
        metrics = {k: float(out[k].detach()) for k in ("loss", "recon_loss", "commit_loss", "perplexity")}
        if progress and (step % 50 == 0 or step == steps - 1):
            progress((step + 1) / steps, f"vq-vae step {step + 1}/{steps} recon {metrics['recon_loss']:.4f}")
    metrics["seconds"] = time.perf_counter() - start
    vq.eval().requires_grad_(False)
    return metrics
