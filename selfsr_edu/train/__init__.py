"""Training: checkpoints and run folders shared by both stages; the stage-1
(degradation) and stage-2 (super-resolution) trainers live beside them."""
