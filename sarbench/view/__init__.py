"""`sarbench view RUN [RUN2]`: a static, self-contained HTML page of every sample of one run (or
two, side by side): the image with reference and predicted boxes, the prompt, the raw and parsed
answer, TP/FP/FN and parse failures, with filters, sorting and a permalink per sample.

samples.py   run folder -> one small record per sample (boxes matched as the scorer matched them)
thumbnails.py  each distinct image once: embedded JPEG thumbnail (or a link) and its original size
page.py      the records, images and static/ (viewer.html, viewer.js, viewer.css) -> one HTML file
"""
