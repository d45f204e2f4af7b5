"""Training: one loop (:mod:`~selfsr_edu.train.loop`) for both stages (:mod:`~selfsr_edu.train.stage1`,
:mod:`~selfsr_edu.train.stage2`); run folders and checkpoints; torchrun/DDP."""
