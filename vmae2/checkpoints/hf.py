"""HF transformers VideoMAE <-> official VideoMAE V2 parameter names.

HF splits ``qkv`` into ``query``/``key``/``value`` (key without bias) and names the rest after
BERT; everything else (patch embedding, decoder head, ``mask_token``) is the same tensor.
Older transformers releases kept ``q_bias``/``v_bias`` parameters, newer ones put them in
``query.bias``/``value.bias``: both are read.
"""
import re
from typing import Dict

import torch

__all__ = ['hf_to_official', 'official_to_hf', 'is_hf_state_dict']

# per-block renames (HF suffix -> official suffix), qkv handled apart
_BLOCK = {
    'attention.output.dense': 'attn.proj',
    'layernorm_before': 'norm1',
    'layernorm_after': 'norm2',
    'intermediate.dense': 'mlp.fc1',
    'output.dense': 'mlp.fc2',
}
_TOP = {
    'videomae.embeddings.patch_embeddings.projection': 'encoder.patch_embed.proj',
    'videomae.layernorm': 'encoder.norm',
    'fc_norm': 'fc_norm',
    'classifier': 'head',
}
_LAYER = re.compile(r'^(videomae\.encoder\.layer|decoder\.decoder_layers)\.(\d+)\.(.+)$')


def is_hf_state_dict(state_dict: Dict[str, torch.Tensor]) -> bool:
    return any(k.startswith(('videomae.', 'decoder.decoder_layers.')) for k in state_dict)


def hf_to_official(state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """HF ``VideoMAEForPreTraining`` / ``VideoMAEForVideoClassification`` / ``VideoMAEModel``
    state dict -> official names (``encoder.*``, ``decoder.*``, ``fc_norm``, ``head``)."""
    out, qkv = {}, {}
    for key, value in state_dict.items():
        m = _LAYER.match(key)
        if m is None:
            for hf, ours in _TOP.items():
                if key.startswith(hf + '.'):
                    out[ours + key[len(hf):]] = value
                    break
            else:
                if not key.endswith('position_embeddings'):  # fixed table, not a weight
                    out[key] = value
            continue
        scope, idx, rest = m.groups()
        prefix = f"{'encoder' if scope.startswith('videomae') else 'decoder'}.blocks.{idx}."
        if rest.startswith('attention.attention.'):
            name = rest[len('attention.attention.'):]
            qkv.setdefault(prefix, {})[name] = value
            continue
        for hf, ours in _BLOCK.items():
            if rest.startswith(hf + '.'):
                out[prefix + ours + rest[len(hf):]] = value
                break
        else:
            out[prefix + rest] = value
    for prefix, parts in qkv.items():
        out[prefix + 'attn.qkv.weight'] = torch.cat(
            [parts.pop('query.weight'), parts.pop('key.weight'), parts.pop('value.weight')])
        for ours, names in (('q_bias', ('q_bias', 'query.bias')),
                            ('v_bias', ('v_bias', 'value.bias'))):
            for n in names:
                if n in parts:
                    out[prefix + 'attn.' + ours] = parts.pop(n)
        for n, v in parts.items():  # anything unknown stays visible in the load report
            out[prefix + 'attn.hf.' + n] = v
    return out


def official_to_hf(state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Official / vmae2 names -> HF (transformers >= 4.4x layout, ``query.bias``/``value.bias``).

    Accepts pretraining keys (``encoder.*``, ``decoder.*``) and fine-tuning keys (bare backbone
    keys, ``fc_norm``, ``head``).
    """
    out = {}
    inv_block = {v: k for k, v in _BLOCK.items()}
    for key, value in state_dict.items():
        m = re.match(r'^(encoder\.|decoder\.|)blocks\.(\d+)\.(.+)$', key)
        if m:
            scope, idx, rest = m.groups()
            prefix = ('decoder.decoder_layers' if scope == 'decoder.' else
                      'videomae.encoder.layer') + f'.{idx}.'
            if rest == 'attn.qkv.weight':
                q, k, v = value.chunk(3)
                for n, t in zip(('query', 'key', 'value'), (q, k, v)):
                    out[prefix + f'attention.attention.{n}.weight'] = t
            elif rest in ('attn.q_bias', 'attn.v_bias'):
                n = 'query' if rest == 'attn.q_bias' else 'value'
                out[prefix + f'attention.attention.{n}.bias'] = value
            else:
                base, _, leaf = rest.rpartition('.')
                out[prefix + inv_block[base] + '.' + leaf] = value
            continue
        bare = key[len('encoder.'):] if key.startswith('encoder.') else key
        if bare.startswith('patch_embed.proj.'):
            out['videomae.embeddings.patch_embeddings.projection.' + bare.split('.')[-1]] = value
        elif bare.startswith('norm.'):
            out['videomae.layernorm.' + bare.split('.')[-1]] = value
        elif bare.startswith('head.'):
            out['classifier.' + bare.split('.')[-1]] = value
        else:  # fc_norm, encoder_to_decoder, mask_token, decoder.norm, decoder.head
            out[bare] = value
    return out
