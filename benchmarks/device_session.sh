#!/usr/bin/env bash
# One prepared command for a lent GPU machine (see docs/gpu.md, "A session with a GPU").
#
#   bash benchmarks/device_session.sh check   # gpu_check.py, every section: <= 560 s
#   bash benchmarks/device_session.sh grid    # the ablation seeds still missing, rows in parallel: <= GRID_S s
#
# Runs from the repository root with the machine's own python3 (its image has torch, numpy, pillow,
# matplotlib, tqdm, safetensors, scikit-image; nothing is installed). Writes what should come back
# under $OUT (default build/device), at most 8 files: the report and its log, or one tarball of
# results/ablate-course (result.json and tables, not the run folders) with the grid's logs.
set -u
mode=${1:-check}
OUT=${OUT:-build/device}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 MPLBACKEND=Agg
PY=${PY:-python3}
$PY -c "import torch, selfsr_edu.cli; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" || exit 2
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$OUT/nvidia_smi.csv" 2>&1

case "$mode" in
check)
    # Each section has its own limit (240 s throughput, 120 s the others); the report is rewritten after every
    # section, so the outer cut at 560 s (one call may run 600) keeps what finished.
    timeout 560 $PY benchmarks/gpu_check.py --out "$OUT/gpu_report.json" 2>&1 | tee "$OUT/gpu_check.log"
    ;;
grid)
    # Every (experiment, row) with a seed missing at BUDGET, one process each, all at once on the one GPU.
    # A row's seeds run one after another inside its process; what finishes writes its result.json.
    GRID_S=${GRID_S:-300}
    BUDGET=${BUDGET:-course}
    RESULTS=${RESULTS:-results/ablate-course}     # where the committed seeds are: finished ones are skipped
    GRID=${GRID:-"table4:scb-r1 table4:scb-prog table3:vanilla table3:cyc table3:cyc-idt table3:ff-idt"}
    logs=$RESULTS/device_logs
    mkdir -p "$logs"
    for job in $GRID; do
        exp=${job%%:*}; row=${job#*:}
        timeout "$GRID_S" $PY -m selfsr_edu ablate "$exp" --budget "$BUDGET" --seeds 3 --rows "$row" \
            --out "$RESULTS" --no-progress > "$logs/${exp}_${row}.log" 2>&1 &
    done
    wait
    for exp in table3 table4 table4-unpaired; do
        $PY -m selfsr_edu ablate "$exp" --budget "$BUDGET" --out "$RESULTS" --table-only \
            >> "$logs/tables.md" 2>&1
    done
    tar czf "$OUT/results.tar.gz" --exclude='*/sr/*' --exclude='*/degradation/*' "$RESULTS"
    ;;
*)
    echo "usage: $0 {check|grid}" >&2; exit 2 ;;
esac
