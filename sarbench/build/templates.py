"""Question and answer templates, sized like the paper's pools and seeded with its verbatim examples.

Answer templates are parsed by PROTOCOL §3, so outside their slots they must not contain a
category word (ship, plane, car, ...), a size or shape word (small, large, medium, wide, square,
tall) or a grid phrase (`left side`, `top part`, `central region`, `upper left`, ...), and a
description sentence must name its category before its location. `tests/test_build_templates.py`
renders every answer template with every slot value and parses it back.
"""

from __future__ import annotations

CLASSIFY_QUESTIONS = (
    "Based on these category options ({options}), what's visible in this scene?",  # paper Fig. 1
    "Looking at this image, which of the following categories are present: {options}?",  # paper Fig. 3
    "Please identify the target categories in the figure (candidate categories: {options})",  # appendix
    "Which of these categories appear in this SAR image: {options}?",
    "Choose from ({options}): what does this image contain?",
    "What kinds of targets are in this image? Options: {options}.",
    "Classify the targets in this SAR image. Candidates: {options}.",
    "Given the categories {options}, which ones can you see here?",
    "From the list ({options}), what is present in this scene?",
    "Which target categories does this image show? Pick from: {options}.",
    "Select the categories visible in this radar image ({options}).",
    "What category of object is in this SAR image? Candidates are {options}.",
    "Identify the categories present in this image from: {options}.",
    "Considering the options {options}, what appears in this image?",
    "Which of the following can be found in this image: {options}?",
    "What targets does this satellite image contain? Choose among {options}.",
    "Tell me which categories ({options}) are visible in this picture.",
    "Please classify this SAR image using the categories {options}.",
    "Out of {options}, which categories are present in this scene?",
    "What is shown in this image? Answer with categories from: {options}.",
)

# {categories}: one name, "a and b", or "a, b and c" in the options' (alphabetical) order.
CLASSIFY_ANSWERS = (
    "It is {categories}.",  # paper Figs. 1 and 3
    "The {categories} targets can be identified in the figure",  # appendix
    "This image contains {categories}.",
    "The scene shows {categories}.",
    "I can see {categories} in this image.",
    "Visible in this scene: {categories}.",
    "This SAR image contains {categories}.",
    "Present in the image: {categories}.",
    "The answer is {categories}.",
    "Detected: {categories}.",
    "The image shows {categories}.",
    "Among the options, the image shows {categories}.",
    "From the candidate list, this scene contains {categories}.",
    "The targets in this image belong to: {categories}.",
    "Looking at the image, it is {categories}.",
    "Identified target categories: {categories}.",
    "This picture includes {categories}.",
    "Targets visible: {categories}.",
    "What can be seen here is {categories}.",
    "The categories present are: {categories}.",
)

DESCRIBE_QUESTIONS = (
    "What do you observe in this satellite imagery?",  # paper Fig. 3
    "What stands out to you in this satellite image?",  # paper Fig. 1
    "Please describe the content of the satellite image in detail",  # appendix
    "Describe what you see in this SAR image.",
    "Can you give a detailed description of this image?",
    "What can be seen in this radar image?",
    "Provide a fine-grained description of this SAR scene.",
    "What objects appear in this satellite image, and where?",
    "Give a detailed account of the targets in this image.",
    "Describe the objects in this SAR image and their positions.",
    "What does this satellite image contain?",
    "Tell me what is visible in this image.",
    "Could you describe this SAR image in detail?",
    "What targets can you observe in this scene?",
    "Summarize the contents of this satellite image.",
    "Explain what this radar image shows.",
    "What are the notable objects in this satellite imagery?",
    "Walk me through the objects visible in this SAR image.",
    "Describe the scene captured in this satellite image.",
    "What do you notice in this SAR image?",
)

DESCRIBE_INTROS = (
    "In this satellite image, we can observe the following:",  # paper
    "In this SAR image, the following can be seen:",
    "This satellite image shows the following:",
    "Here is what can be observed in this image:",
)

# Sentences name the category before the location: §3 pairs a category with the next grid phrase.
DESCRIBE_FIRST = (
    "A {size} {category} is visible {location}",  # paper
    "One can spot a {size} {category} {location}",  # paper
    "There is a {size} {category} {location}",
    "A {size} {category} appears {location}",
    "We can see a {size} {category} {location}",
    "A {size} {category} is located {location}",
    "A {size} {category} is present {location}",
    "You can notice a {size} {category} {location}",
    "A {size} {category} can be found {location}",
    "A {size} {category} stands out {location}",
)

DESCRIBE_MORE = (
    "There is one more {size} {category} {location}",  # paper
    "Also, we can observe another {size} {category} {location}",  # paper
    "Another {size} {category} is visible {location}",
    "In addition, a {size} {category} appears {location}",
    "A further {size} {category} can be seen {location}",
    "We can also see a {size} {category} {location}",
    "Additionally, there is a {size} {category} {location}",
    "Yet another {size} {category} is present {location}",
    "One more {size} {category} can be found {location}",
    "Moreover, a {size} {category} is located {location}",
)

# Location phrases; {row}/{col} are the cell's words. Every phrase parses back to its cell.
LOCATIONS_ANY_CELL = (
    "in the {row} {col} portion of the image",  # paper
    "in the {row} {col} area of the image",
    "in the {row}-{col} part of the image",
    "at the {row} {col} of the image",
)
LOCATIONS_OF_CELL = {
    "middle left": ("on the left side of the image",),  # paper
    "middle right": ("on the right side of the image",),
    "middle center": ("in the central region of the image", "in the center of the image"),  # paper
    "top center": ("in the top part of the image", "in the upper part of the image"),
    "bottom center": ("in the bottom part of the image", "in the lower part of the image"),
}
ROW_SYNONYMS = {"top": "upper", "bottom": "lower"}

COUNT_QUESTIONS = (
    "[count] Count the {category} in this satellite image.",  # paper Fig. 3
    "[count] Can you count all the {category} in this image?",  # paper Fig. 1
    "[count] How many {category} are there in the image?",  # appendix
    "[count] How many {category} can you find in this SAR image?",
    "[count] Please count the {category} in this image.",
    "[count] What is the number of {category} in this picture?",
    "[count] Count every {category} visible in this SAR image.",
    "[count] Tell me how many {category} appear in this image.",
    "[count] Give the number of {category} in this satellite image.",
    "[count] How many instances of {category} are in this image?",
    "[count] Determine the count of {category} in this SAR scene.",
    "[count] Could you count the {category} shown here?",
    "[count] Find and count all {category} in this image.",
    "[count] What is the total number of {category} in this radar image?",
    "[count] Count the instances of {category} in this scene.",
)

GROUNDING_QUESTIONS = (
    "[grounding] What objects can you identify in this SAR image and where are they located?",  # paper
    "[grounding] Can you describe where different objects are situated in this SAR image?",  # paper
    "[grounding] Identify the objects in this image and describe their locations.",
    "[grounding] Where are the objects in this SAR image, and how are they arranged?",
    "[grounding] Locate every object in this image and describe their spatial relationships.",
    "[grounding] What is in this SAR image and where is each object?",
    "[grounding] Describe the positions of the objects in this SAR image.",
    "[grounding] Please list the objects in this image with their locations.",
    "[grounding] How are the objects in this SAR image distributed?",
    "[grounding] Point out the objects in this image and where they are.",
    "[grounding] Give the location of each object in this SAR image.",
    "[grounding] What can you find in this image, and where is it?",
    "[grounding] Describe the spatial layout of the objects in this SAR image.",
    "[grounding] Which objects are present in this image and where are they positioned?",
    "[grounding] Map out the objects visible in this SAR image.",
)
GROUNDING_INTRO_MULTI = "In this SAR image, I can identify several objects and their locations:"  # paper
GROUNDING_INTRO_SINGLE = "In this SAR image, I can identify one object and its location:"
NEAR_PHRASES = ("near", "close to", "next to")
RELATION_PHRASE = {
    "far": "far from",
    "left_of": "to the left of",
    "right_of": "to the right of",
    "above": "above",
    "below": "below",
}

IDENTIFY_QUESTIONS = (
    "[identify] What can you identify within these coordinates: {box}?",  # paper Fig. 3
    "[identify] Could you specify what appears at {box}?",  # paper Fig. 1
    "[identify] What object is located in {box}?",  # appendix
    "[identify] What is at {box}?",
    "[identify] Describe the object inside {box}.",
    "[identify] What can be seen in the region {box}?",
    "[identify] Tell me about the target at {box}.",
    "[identify] What is the object within {box}?",
    "[identify] Identify the target in the box {box}.",
    "[identify] What kind of object occupies {box}?",
    "[identify] Please describe what lies within {box}.",
    "[identify] What does the region {box} contain?",
    "[identify] Characterize the object found at {box}.",
    "[identify] What is present inside the coordinates {box}?",
    "[identify] Can you tell what is in {box}?",
    "[identify] Which object is shown at {box}?",
    "[identify] Examine {box} and describe the object there.",
    "[identify] What type of target is located at {box}?",
    "[identify] Give details about the object in {box}.",
    "[identify] What do you see within {box}?",
)

# Each answer states exactly one cell, size, shape and category. The paper's two short examples
# omit the shape; they get the appendix's shape sentence so every reference has all four.
IDENTIFY_ANSWERS = (
    "Examining the {cell} area reveals a {size} {category}. It appears to be {shape} in shape.",  # paper
    "Present in the {cell} area is a {size} {category}. It appears to be {shape} in shape.",  # paper
    "This is a {size_sized} {category} located in the {cell} portion of the image. It appears to be {shape} in shape.",  # appendix  # noqa: E501
    "A {size} {category} with a {shape} shape is located in the {cell} area.",
    "In the {cell} area there is a {size} {category}, {shape} in shape.",
    "The box contains a {size} {category} in the {cell} portion of the image; its shape is {shape}.",
    "It is a {size}, {shape} {category} in the {cell} area.",
    "The target is a {size} {category} found in the {cell} portion of the image, and it looks {shape}.",
    "Located in the {cell} area, this {size} {category} has a {shape} outline.",
    "This region shows a {size} {category} in the {cell} area with a {shape} form.",
    "A {shape}, {size} {category} sits in the {cell} portion of the image.",
    "The object is a {size} {category} positioned in the {cell} area. Its shape is {shape}.",
    "Within these coordinates lies a {size} {category} in the {cell} area, {shape} in shape.",
    "You can find a {size} {category} here, in the {cell} portion of the image. The outline is {shape}.",
    "This {size_sized} {category} occupies the {cell} area and appears {shape}.",
    "The {cell} area holds a {size} {category} that is {shape} in shape.",
    "What appears here is a {size} {category} in the {cell} portion of the image, with a {shape} profile.",
    "A {size} {category} is visible in the {cell} area; it is {shape} in shape.",
    "The specified box covers a {size} {category} in the {cell} area. It looks {shape}.",
    "Inside the box is a {size} {category} lying in the {cell} portion of the image, {shape} in shape.",
)

REFER_QUESTIONS = (
    "[refer] Locate {n} {category}.",  # paper training log
    "[refer] Identify {n} {category}.",  # paper Fig. 3
    "[refer] I need to find {n} {category}, can you help?",  # paper Fig. 1
    "[refer] Find {n} {category} in this image.",
    "[refer] Point out {n} {category}.",
    "[refer] Where can I find {n} {category}?",
    "[refer] Please locate {n} {category} in the image.",
    "[refer] Mark {n} {category} in this SAR image.",
    "[refer] Give the positions of {n} {category}.",
    "[refer] Detect {n} {category}.",
    "[refer] Can you locate {n} {category} for me?",
    "[refer] Find the locations of {n} {category}.",
    "[refer] Help me spot {n} {category}.",
    "[refer] Provide the coordinates of {n} {category}.",
    "[refer] Search the image for {n} {category}.",
    "[refer] Pinpoint {n} {category} in this scene.",
    "[refer] Where in the image are {n} {category} located?",
    "[refer] Output the boxes of {n} {category}.",
    "[refer] Please find {n} {category}.",
    "[refer] Highlight {n} {category} in this picture.",
    "[refer] Locate all {n} {category} in this SAR image.",
    "[refer] I am looking for {n} {category}. Can you show me?",
    "[refer] Could you identify {n} {category} in this image?",
    "[refer] Indicate the position of {n} {category}.",
    "[refer] Give me the bounding boxes of {n} {category}.",
    "[refer] Spot {n} {category} and give their locations.",
    "[refer] Localize {n} {category}.",
    "[refer] Where are {n} {category} in this radar image?",
    "[refer] Find {n} {category} and report their positions.",
    "[refer] Tell me where to find {n} {category}.",
)


def all_pools() -> dict[str, tuple[str, ...]]:
    """Every template pool by name (pool sizes are checked by tests and hashed into the report)."""
    return {name: value for name, value in globals().items() if name.isupper() and isinstance(value, tuple)}
