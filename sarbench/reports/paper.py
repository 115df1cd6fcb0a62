"""The paper's published Table 3 (PROTOCOL §5): LoRA-fine-tuned models on the full test set."""

from __future__ import annotations

from sarbench.reports.columns import TABLE3

# Avg | count only .25 .5 | abstract | grounding multi single | identify multi single |
# refer multi .25 .5 | refer single .25 .5 | describe | classify  (TABLE3 order)
_PUBLISHED = """
InternVL2.5-8B   92.79 74.14 61.37 52.17 81.25 62.25 87.91 98.84 98.98 37.49 23.46 74.86 60.13 63.43 97.25
InternVL2.5-4B   91.57 72.68 57.54 47.35 83.33 60.89 85.90 98.01 98.76 34.05 18.86 69.92 55.29 58.84 97.27
InternVL2.5-2B   90.55 71.52 54.11 44.22 50.00 60.81 81.92 97.79 98.63 27.05 13.91 68.50 52.16 56.36 96.69
InternVL2.5-1B   88.89 69.87 50.18 39.35  0.00 56.30 82.24 96.98 98.60 22.13  9.94 62.33 44.99 53.30 96.65
DeepSeekVL-7B    88.99 20.66  8.49  4.19 64.29 65.32 85.78 98.97 99.05 28.75 13.66 64.34 48.84 51.08 93.23
DeepSeekVL-1.3B  84.01 19.61  4.00  1.32 75.00 60.38 82.00 96.40 97.45 16.11  6.23 53.58 34.28 44.44 47.37
Phi-3.5-V-4.2B   92.06 72.69 57.48 47.60 62.50 58.85 87.29 98.93 98.59 31.65 17.16 70.95 55.70 59.95 96.42
GLM-Edge-V-2B    90.20 71.59 51.97 40.37 42.86 59.15 86.33 97.54 98.60 24.15 10.66 65.57 46.46 57.86 97.39
GLM-Edge-V-5B    90.48 73.44 56.30 44.56 75.00 61.38 89.96 96.69 95.96 30.68 15.41 69.36 51.81 61.45 98.02
mPLUG-Owl3-7B    91.71 71.00 48.07 35.27 100.0 56.37 93.32 99.27 99.51 19.72  7.66 57.27 38.00 54.65 98.80
mPLUG-Owl3-2B    90.32 67.56 41.56 28.83 75.00 45.65 97.58 98.95 99.42 14.91  5.42 50.46 30.16 41.76 98.31
mPLUG-Owl3-1B    89.68 67.03 38.64 24.98 75.00 44.07 97.19 98.72 98.87 11.86  4.12 44.34 24.02 40.16 98.06
Qwen2-VL-7B      90.76 72.79 58.51 50.24  0.00 64.17 83.87 97.54 99.18 39.11 26.29 70.55 57.04 63.11 97.30
Qwen2-VL-2B      90.27 69.63 53.62 45.47 50.00 59.04 78.49 97.55 99.26 32.60 20.12 65.31 51.53 55.20 96.88
LLaVA-1.5-7B     91.21 71.89 56.89 46.80 57.14 62.70 85.79 97.84 98.42 30.81 15.48 71.89 56.70 61.35 96.90
Yi-VL-6B         84.35 32.62 14.35  9.44 75.00 53.68 72.38 93.63 97.95  7.76  2.69 32.95 16.63 38.15 95.32
"""


def paper_rows() -> list[tuple[str, dict[str, float]]]:
    """(name marked "(paper)", {metric id: value}) in the paper's row order."""
    rows = []
    for line in _PUBLISHED.strip().splitlines():
        model, *values = line.split()
        assert len(values) == len(TABLE3), line
        rows.append((f"{model} (paper)", dict(zip(TABLE3, map(float, values)))))
    return rows
