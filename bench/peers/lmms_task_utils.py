"""Functions of the lmms-eval task `sarbench_sample` (copied next to the rendered YAML as utils.py).

The question gets a leading newline: lmms-eval's Qwen2-VL model puts the image before the text in
the user turn and renders it with the checkpoint's chat template, which writes
`<|vision_end|>` straight before the text; sarbench's prompt (ms-swift's `qwen2_vl` template) has
`<|vision_end|>\\n{question}`. With the newline both give the same prompt text.
"""

from PIL import Image


def doc_to_visual(doc):
    with Image.open(doc["image"]) as image:
        return [image.convert("RGB")]


def doc_to_text(doc, lmms_eval_specific_kwargs=None):
    return "\n" + doc["question"]


def process_results(doc, results):
    return {"exact_match": float(results[0].strip() == doc["reference"].strip())}
