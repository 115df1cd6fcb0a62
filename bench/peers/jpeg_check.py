"""Why lmms-eval's qwen2_vl answers differ from sarbench's: its JPEG re-encoding of the image.

Runs lmms-eval 0.7.3's qwen2_vl message path (system turn, image then text, the checkpoint's chat
template, qwen-vl-utils) on chosen samples twice: with the decoded image as sarbench gives it, and
with it re-encoded as lmms-eval's model does (JPEG, quality 85, as a data URL). Run in
.venv-peers on a work folder kept by `bench/peers.py --keep DIR`:

    .venv-peers/bin/python bench/peers/jpeg_check.py DIR classify/7 classify/11 [--tokens 32]
"""

import argparse
import json
from pathlib import Path

import torch
from lmms_eval.models.model_utils.media_encoder import encode_image_to_data_url
from PIL import Image
from qwen_vl_utils import process_vision_info
from transformers import AutoProcessor, Qwen2VLForConditionalGeneration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("ids", nargs="+")
    parser.add_argument("--tokens", type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(1)
    work, tokens = args.work, args.tokens
    model = json.loads((work / "task" / "model.json").read_text())
    pixels = {"max_pixels": model["max_pixels"], "min_pixels": model["min_pixels"]}
    rows = {row["id"]: row for row in map(json.loads, (work / "task" / "samples.jsonl").read_text().splitlines())}
    processor = AutoProcessor.from_pretrained(model["path"], **pixels)
    network = Qwen2VLForConditionalGeneration.from_pretrained(model["path"], dtype="auto").eval()

    def answer(row: dict, jpeg: bool) -> str:
        image = Image.open(row["image"]).convert("RGB")
        if jpeg:
            image = encode_image_to_data_url(
                image, image_format="JPEG", mime_type="image/jpeg", convert_rgb=True, quality=85
            )
        user = [{"type": "image", "image": image, **pixels}, {"type": "text", "text": "\n" + row["question"]}]
        messages = [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": user}]
        text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        images, _ = process_vision_info([messages])
        inputs = processor(text=[text], images=images, return_tensors="pt")
        out = network.generate(**inputs, max_new_tokens=tokens, do_sample=False)
        return processor.batch_decode(out[:, inputs.input_ids.shape[1] :], skip_special_tokens=True)[0].strip()

    for key in args.ids:
        print(f"{key}\n  decoded image: {answer(rows[key], False)!r}\n  JPEG q85:      {answer(rows[key], True)!r}")


if __name__ == "__main__":
    main()
