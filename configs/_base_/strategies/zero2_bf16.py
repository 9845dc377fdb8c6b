# DeepSpeed ZeRO-2 through MMEngine's FlexibleRunner (vmae2.engine.strategies: MMEngine's
# DeepSpeedStrategy with the DeepSpeed >= 0.19.7 import fixed). Gradients and AdamW state are
# split over the GPUs, parameters stay whole (bf16 copies, fp32 master shards): for models whose
# parameters fit one GPU (ViT-L / ViT-H) it communicates less than FSDP. DeepSpeed clips the
# gradients itself (`gradient_clipping`), so the optimizer wrapper carries no clip_grad.
strategy = dict(
    type='DeepSpeedStrategy',
    zero_optimization=dict(stage=2, overlap_comm=True, contiguous_gradients=True,
                           reduce_bucket_size=int(5e8), allgather_bucket_size=int(5e8)),
    bf16=dict(enabled=True),
    gradient_clipping=0.0,
    # the recognizer's clips (data preprocessor output) to the bf16 of the engine's weights
    inputs_to_half=['inputs'],
)
