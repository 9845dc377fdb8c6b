# FSDP through MMEngine's FlexibleRunner (vmae2.engine.strategies.FSDPStrategy; tools/train.py
# picks the runner when a config has a `strategy`). Each transformer block (encoder and decoder)
# is one FSDP unit, fully sharded (ZeRO-3: parameters, gradients and AdamW state split over the
# GPUs); bf16 compute with fp32 master weights and fp32 gradient reduction; every block
# recomputed in the backward. Checkpoints: one weights-only file per rank ('sharded': fast, no
# gather; resumes on the same number of GPUs; tools/test.py merges them), or 'full' (rank 0
# gathers; resumes on any number of GPUs).
strategy = dict(
    type='FSDPStrategy',
    wrap_modules=('Block', ),
    activation_checkpointing=True,
    state_dict_cfg='sharded',
    model_wrapper=dict(
        sharding_strategy='FULL_SHARD',
        mixed_precision=dict(param_dtype='bfloat16', reduce_dtype='float32',
                             buffer_dtype='float32')),
)
