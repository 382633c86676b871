"""The frozen-prefix cache: run decoder layers once on the prompt prefix every example shares.

Training runs only the top (adapted) layers each step. The layers below are frozen and get no
adapter, so their output for a training example never changes and is computed once; and every
example's prompt starts with the same system prompt and chat header, whose keys and values
are computed once per batch and shared (`SharedPrefix`).
"""

from __future__ import annotations

from collections.abc import Sequence


def run_layers(dec, h, layers, start: int = 0, cache=None, mask=None):
    """Run decoder layers on hidden states `h` (B, T, D) at positions start..start+T-1.

    Without `mask`, attention is plainly causal with no padding mask: pads sit after every
    real token, so no real token attends to one. `cache` (a `SharedPrefix`) records or
    prepends the shared prefix's keys and values.
    """
    import torch

    pos = torch.arange(start, start + h.shape[1], device=h.device)[None]
    pe = dec.rotary_emb(h, pos)
    for layer in layers:
        h = layer(
            h, attention_mask=mask, position_ids=pos, position_embeddings=pe, past_key_values=cache
        )
    return h


class SharedPrefix:
    """Stands in for a KV cache so every example in a batch shares ONE forward of the common
    prompt prefix (system prompt and chat header, ~half of a closed-book example's tokens).

    First pass ("record", batch 1): keep each layer's prefix keys/values, with their graph, so
    gradients flow through them. Second pass: prepend them, broadcast to the batch.
    """

    def __init__(self):
        self.kv: dict[int, tuple] = {}
        self.recording = True

    def update(self, k, v, layer_idx, *args, **kwargs):
        import torch

        if self.recording:
            self.kv[layer_idx] = (k, v)
            return k, v
        pk, pv = self.kv[layer_idx]
        b = k.shape[0]
        return (
            torch.cat([pk.expand(b, -1, -1, -1), k], 2),
            torch.cat([pv.expand(b, -1, -1, -1), v], 2),
        )


def suffix_mask(shared: int, width: int, dev):
    """Boolean (1, 1, width, shared + width) mask: suffix query i sees the whole prefix and
    suffix keys 0..i."""
    import torch

    mask = torch.ones(width, shared + width, dtype=torch.bool, device=dev)
    mask[:, shared:] = torch.ones(width, width, dtype=torch.bool, device=dev).tril()
    return mask[None, None]


def common_prefix(seqs: Sequence[Sequence[int]], limit: int) -> int:
    """Length of the token prefix all `seqs` share, at most `limit`."""
    n = min(limit, *(len(x) for x in seqs))
    first = seqs[0]
    for i in range(n):
        if any(x[i] != first[i] for x in seqs):
            return i
    return n
