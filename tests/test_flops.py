"""selfsr_edu.flops: analytic conv/linear FLOPs, checked by hand and against FlopCounterMode."""
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from selfsr_edu.flops import FlopCount, model_flops, r_step_flops
from selfsr_edu.models import SelfConditionedSR
from selfsr_edu.models.sr import PRESETS
from selfsr_edu.nn.equalized import EqualConv2d


def test_single_conv_by_hand():
    conv = nn.Conv2d(5, 7, (3, 2), stride=2, padding=1)
    x = torch.randn(2, 5, 11, 10)
    fc = model_flops(conv, x)
    h_out, w_out = (11 + 2 - 3) // 2 + 1, (10 + 2 - 2) // 2 + 1
    expected = 2 * 2 * 7 * h_out * w_out * 5 * 3 * 2
    assert fc.forward == expected
    assert fc.backward == expected              # input is data: the weight gradient only
    x.requires_grad_(True)
    assert model_flops(conv, x).backward == 2 * expected


def test_grouped_conv_is_a_quarter_of_dense():
    x = torch.randn(1, 16, 8, 8)
    dense = model_flops(nn.Conv2d(16, 32, 3, padding=1), x).forward
    grouped = model_flops(nn.Conv2d(16, 32, 3, padding=1, groups=4), x).forward
    assert grouped * 4 == dense == 2 * 32 * 64 * 16 * 9


def test_functional_grouped_conv_outside_modules_is_counted():
    x, w = torch.randn(1, 8, 6, 6), torch.randn(8, 2, 3, 3, requires_grad=True)
    with FlopCount() as fc:
        torch.nn.functional.conv2d(x, w, padding=1, groups=4)
    assert fc.forward == 2 * 8 * 36 * 2 * 9 and fc.calls[0].groups == 4


def test_matches_flop_counter_mode_on_a_dense_stack():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), EqualConv2d(8, 16, 3),
                        nn.Conv2d(16, 16, 4, stride=2, padding=1), nn.Flatten(), nn.Linear(16 * 8 * 8, 10))
    x = torch.randn(2, 3, 16, 16)
    ours = model_flops(net, x)
    with FlopCounterMode(display=False) as ref:
        net(x)
    assert ours.forward == ref.get_total_flops()
    with FlopCounterMode(display=False) as ref:             # forward + backward, dense layers: exact too
        net(x).sum().backward()
    assert ours.training == ref.get_total_flops()


def test_tiny_r_preset_total_from_its_config():
    cfg = PRESETS["tiny"]
    ch, depth, hidden, s, n = cfg["channels"], cfg["depth"], cfg["hidden"], 16, 2
    R = SelfConditionedSR.from_preset("tiny")
    fc = model_flops(R, torch.rand(n, 3, s, s), 3)

    def conv(c_in, c_out, side, k=3):
        return 2 * n * c_out * side * side * c_in * k * k

    fwd = conv(3, ch[0], s)
    train = 2 * fwd                                         # stem: data input, weight gradient only
    for k in range(1, 4):
        side = s << k
        for i in range(depth):
            main = conv(ch[k - 1] if i == 0 else ch[k], ch[k], side)
            branch1, branch2 = conv(3, hidden, side), conv(hidden, ch[k], side)
            fwd += main + branch1 + branch2
            train += 3 * main + 2 * branch1 + 3 * branch2   # branch1 reads the (data) condition
    rgb = conv(ch[3], 3, s << 3, k=1)
    fwd, train = fwd + rgb, train + 3 * rgb
    assert fc.forward == fwd and fc.training == train


def test_batched_condition_branches_cost_the_same_as_one_by_one():
    import selfsr_edu.models.sr as sr_module

    R = SelfConditionedSR.from_preset("small")
    lr = torch.rand(1, 3, 16, 16)
    together = model_flops(R, lr, 2)
    batched = sr_module.level_condition_features
    sr_module.level_condition_features = lambda blocks, c: [b.condition_features(c) for b in blocks]
    try:
        one_by_one = model_flops(R, lr, 2)
    finally:
        sr_module.level_condition_features = batched
    assert together.forward == one_by_one.forward and together.training == one_by_one.training
    assert any(c.groups == 2 for c in together.calls)


def test_r_step_flops_on_meta_device():
    out = r_step_flops("small", batch=2, full=True)
    assert out["R_step"] > 3 * out["R_forward"] * 0.9 and out["D_step"] > 0
    assert out["iteration"] == out["R_step"] + out["D_step"]
