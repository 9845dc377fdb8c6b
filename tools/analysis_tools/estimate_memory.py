"""Per-GPU training memory of a config under DDP, FSDP and DeepSpeed ZeRO-2/3.

    python tools/analysis_tools/estimate_memory.py CONFIG [CONFIG ...] --gpus 8 [--gpu-mem 80]
        [--precision bf16|fp32] [--batch N] [--measure]

For each strategy, with and without activation checkpointing, it prints the parameters,
gradients and optimizer state one GPU holds, the activations of the config's batch (views per
GPU: ``batch_size`` x the dataset's ``num_sample``), the total, and the largest batch that fits
in ``--gpu-mem`` GiB less 2 GiB (CUDA context, allocator fragmentation). The model is built on
the ``meta`` device (ViT-g in no time).

The model of the memory (AdamW, P trainable parameters, N GPUs, bf16 = autocast / FSDP
``param_dtype`` with fp32 master weights, gradients reduced in fp32):

=============  ============================  ===============  ===============
strategy       parameters                    gradients        AdamW state
=============  ============================  ===============  ===============
DDP            4P (+2P bf16 copies)          4P + 4P buckets  8P
FSDP (ZeRO-3)  4P/N + 2 gathered blocks      4P/N + 1 block   8P/N
ZeRO-2         2P bf16 (+4P/N fp32 master)   4P/N             8P/N
ZeRO-3         2P/N + 2 gathered blocks      4P/N             8P/N (+4P/N master)
=============  ============================  ===============  ===============

Activations (what autograd keeps for the backward), per token of a transformer block of width
``D`` and MLP width ``F`` with SDPA (flash / memory-efficient, no ``N x N`` tensor): the two
LayerNorm inputs (fp32 residual stream, ``2D``) and, in the compute dtype, the qkv input,
q/k/v, the attention output, the projection input, the fc1 input (``7D``), the GELU input and
output (``2F``); layer scale and drop path add ``2D`` each. With activation checkpointing each
block keeps only its input (``D``, fp32) and one block at a time is recomputed, after the
head's activations are freed (the peak is the larger of the two). Added: the clip itself, the
final norms, the decoder head and the loss. Pretraining encodes the visible
tokens (``1 - encoder mask ratio``) and decodes visible + queries (``1 - decoder mask ratio``).
``--measure`` runs one real training step of the config on the CPU (fp32, ``--batch`` views,
small models only) and prints the peak of ``torch.profiler``'s memory timeline beside the
estimate (the check of ``tests/engine/test_estimate_memory.py``).
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from vmae2.registry import MODELS  # noqa: E402
from vmae2.setup_env import register_all_modules  # noqa: E402

GiB = 2 ** 30
STRATEGIES = ('DDP', 'FSDP', 'ZeRO-2', 'ZeRO-3')
#: CUDA context + allocator fragmentation, left out of --gpu-mem
RESERVED_GIB = 2.0


def _blocks(module) -> List[torch.nn.Module]:
    return list(getattr(module, 'blocks', []))


def _block_dims(block) -> dict:
    fc1 = block.mlp.fc1.weight
    return dict(D=fc1.shape[1], F=fc1.shape[0], H=block.attn.num_heads,
                layer_scale=block.gamma_1 is not None,
                drop_path=not isinstance(block.drop_path, torch.nn.Identity))


def _geometry(cfg: Config, batch: Optional[int]) -> dict:
    """Parameter counts and token counts of the config's model and clip."""
    model_cfg = cfg.model.copy()
    model_cfg.get('data_preprocessor', {}).pop('blending', None)  # no distributions on meta
    init_default_scope(cfg.get('default_scope', 'vmae2'))
    with torch.device('meta'):
        model = MODELS.build(model_cfg)
    encoder = next(m for m in model.modules() if hasattr(m, 'patch_embed') and _blocks(m))
    decoder = next((m for m in model.modules() if m is not encoder and _blocks(m)
                    and not hasattr(m, 'patch_embed')), None)
    T = int(cfg.get('num_frames', cfg.get('clip_len', 16)))
    S = int(cfg.get('input_size', 224))
    tokens = (T // encoder.tubelet_size) * (S // encoder.patch_size) ** 2
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    block_params = max(sum(p.numel() for p in b.parameters())
                       for m in (encoder, decoder) if m is not None for b in _blocks(m))
    loader = cfg.train_dataloader
    views = batch or loader.batch_size * loader.dataset.get('num_sample', 1)
    geo = dict(P=trainable, P_all=sum(p.numel() for p in model.parameters()),
               block_params=block_params, clip=3 * T * S * S, views=views,
               enc=dict(_block_dims(_blocks(encoder)[0]), L=len(_blocks(encoder)), N=tokens))
    out_dim = tokens
    if decoder is not None:  # pretraining: masks decide the token counts
        enc_ratio = model_cfg.get('encoder_mask', {}).get('ratio', 0.9)
        visible = tokens - int(round(tokens * enc_ratio))
        dec_mask = model_cfg.get('decoder_mask')
        queries = tokens - int(round(tokens * dec_mask['ratio'])) if dec_mask else \
            tokens - visible
        geo['enc']['N'] = visible
        geo['dec'] = dict(_block_dims(_blocks(decoder)[0]), L=len(_blocks(decoder)),
                          N=visible + queries)
        head = decoder.head.weight.shape[0]
        geo['head'] = dict(D=geo['dec']['D'], queries=queries, K=head)
        out_dim = queries
    geo['pretrain'] = decoder is not None
    geo['out_tokens'] = out_dim
    return geo


def _block_bytes(dims: dict, tokens: int, cdt: int) -> float:
    """Saved bytes of one block for ``tokens`` tokens; ``cdt``: bytes of the compute dtype."""
    D, F = dims['D'], dims['F']
    extra = 2 * D * (int(dims['layer_scale']) + int(dims['drop_path']))
    return tokens * (2 * D * 4 + (7 * D + 2 * F + extra) * cdt)


def activation_bytes(geo: dict, checkpointing: bool, precision: str) -> float:
    """Activations kept for the backward, per view (see the module doc)."""
    cdt = 2 if precision == 'bf16' else 4
    kept = geo['clip'] * 4  # the normalised clip, input of the patch embedding
    others, largest_block = 0.0, 0.0
    for part in ('enc', 'dec'):
        if part not in geo:
            continue
        g = geo[part]
        block = _block_bytes(g, g['N'], cdt)
        largest_block = max(largest_block, block)
        kept += g['L'] * g['N'] * g['D'] * 4 if checkpointing else g['L'] * block
        others += g['N'] * g['D'] * 4  # final norm input
    if geo['pretrain']:
        h = geo['head']
        others += geo['enc']['N'] * geo['enc']['D'] * cdt  # encoder_to_decoder input
        others += h['queries'] * (h['D'] * cdt + 2 * h['K'] * 4)  # head input, pred, target
    if checkpointing:
        # the head's activations are freed before the first block is recomputed: the peak is
        # the larger of the two moments
        return kept + max(others, largest_block)
    return kept + others


def state_bytes(geo: dict, strategy: str, gpus: int, precision: str) -> Dict[str, float]:
    """Parameters, gradients and AdamW state per GPU (see the module doc)."""
    P, Pa, blk = geo['P'], geo['P_all'], geo['block_params']
    bf16 = precision == 'bf16'
    if strategy == 'DDP':
        return dict(params=4 * Pa + (2 * Pa if bf16 else 0), grads=8 * P, optim=8 * P)
    pdt = 2 if bf16 else 4
    if strategy == 'FSDP':
        return dict(params=4 * Pa / gpus + 2 * blk * pdt, grads=4 * P / gpus + blk * 4,
                    optim=8 * P / gpus)
    if strategy == 'ZeRO-2':
        master = 4 * P / gpus if bf16 else 0
        return dict(params=pdt * Pa + master, grads=4 * P / gpus, optim=8 * P / gpus)
    if strategy == 'ZeRO-3':
        master = 4 * P / gpus if bf16 else 0
        return dict(params=pdt * Pa / gpus + 2 * blk * pdt + master,
                    grads=4 * P / gpus + blk * 4, optim=8 * P / gpus)
    raise ValueError(f'unknown strategy {strategy}')


def estimate(geo: dict, strategy: str, gpus: int, checkpointing: bool, precision: str,
             gpu_mem: float) -> dict:
    """One row: bytes per GPU and the largest batch (views) that fits ``gpu_mem`` GiB."""
    states = state_bytes(geo, strategy, gpus, precision)
    act = activation_bytes(geo, checkpointing, precision)
    fixed = sum(states.values())
    room = (gpu_mem - RESERVED_GIB) * GiB - fixed
    return dict(states, act=act * geo['views'], total=fixed + act * geo['views'],
                max_batch=max(0, int(room // act)))


def measure_peak(cfg: Config, views: int, checkpointing: bool) -> float:
    """Peak bytes of one fp32 training step on the CPU (profiler memory timeline): the step
    is run once before (AdamW state allocated, as in the steady state)."""
    from torch.profiler import ProfilerActivity, profile
    from torch.profiler._memory_profiler import MemoryProfileTimeline
    model_cfg = cfg.model.copy()
    model_cfg.get('data_preprocessor', {}).pop('blending', None)
    if checkpointing:  # the models' own per-block checkpointing (FSDP's wraps the same blocks)
        for part in ('backbone', 'decoder'):
            if part in model_cfg:
                model_cfg[part]['with_cp'] = True
    init_default_scope(cfg.get('default_scope', 'vmae2'))
    torch.manual_seed(0)
    model = MODELS.build(model_cfg).train()
    T = int(cfg.get('num_frames', cfg.get('clip_len', 16)))
    S = int(cfg.get('input_size', 224))
    x = torch.randn(views, 3, T, S, S)
    optim = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step():
        if hasattr(model, 'forward_mae'):
            loss = model(x, None, mode='loss')['loss']
        else:
            loss = model(x.unsqueeze(1), None, mode='tensor').float().pow(2).mean()
        loss.backward()
        optim.step()
        optim.zero_grad(set_to_none=True)

    step()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True,
                 with_stack=True) as prof:
        step()
    _, sizes = MemoryProfileTimeline(prof._memory_profile())._coalesce_timeline('cpu')
    return float(max(sum(s) for s in sizes))


def _fmt(b: float) -> str:
    return f'{b / GiB:7.2f}'


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--gpus', type=int, default=8, help='GPUs the model is sharded over')
    parser.add_argument('--gpu-mem', type=float, default=80, help='GiB per GPU')
    parser.add_argument('--precision', choices=('bf16', 'fp32'), default='bf16')
    parser.add_argument('--batch', type=int, help='views per GPU (default: the config\'s)')
    parser.add_argument('--strategies', nargs='+', default=list(STRATEGIES), choices=STRATEGIES)
    parser.add_argument('--measure', action='store_true',
                        help='also run one fp32 step on the CPU and print the measured peak '
                        '(DDP on 1 GPU; small models only)')
    args = parser.parse_args(argv)
    register_all_modules(init_default_scope=False)
    for path in args.configs:
        cfg = Config.fromfile(path)
        geo = _geometry(cfg, args.batch)
        print(f'\n{osp.splitext(osp.basename(path))[0]}: {geo["P"] / 1e6:.1f} M trainable '
              f'parameters, {geo["views"]} views/GPU, {args.gpus} GPUs x {args.gpu_mem:g} GiB, '
              f'{args.precision}')
        print('| strategy | act. ckpt | params | grads | AdamW | activations | total GiB | '
              'fits | max views/GPU |')
        print('|---|---|---|---|---|---|---|---|---|')
        for strategy in args.strategies:
            for cp in (False, True):
                r = estimate(geo, strategy, args.gpus, cp, args.precision, args.gpu_mem)
                fits = 'yes' if r['total'] <= (args.gpu_mem - RESERVED_GIB) * GiB else 'no'
                print(f'| {strategy} | {"yes" if cp else "no"} | {_fmt(r["params"])} | '
                      f'{_fmt(r["grads"])} | {_fmt(r["optim"])} | {_fmt(r["act"])} | '
                      f'{_fmt(r["total"])} | {fits} | {r["max_batch"]} |')
        if args.measure:
            for cp in (False, True):
                est = estimate(geo, 'DDP', 1, cp, 'fp32', args.gpu_mem)
                # one process: no DDP buckets
                est_total = est['total'] - 4 * geo['P']
                peak = measure_peak(cfg, geo['views'], cp)
                print(f'measured (CPU, fp32, checkpointing={cp}): peak {peak / 2**20:.1f} MiB, '
                      f'estimate {est_total / 2**20:.1f} MiB, '
                      f'{100 * (est_total - peak) / peak:+.1f} %')


if __name__ == '__main__':
    main()
