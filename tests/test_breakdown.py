"""Per-category and per-size breakdowns in metrics.json."""

from metrics.breakdown import size_word
from sarbench.result_files import Prediction
from sarbench.score_predictions import score_predictions


def prediction(subset, response, reference, question=None, size=None, i=0):
    return Prediction(
        f"{subset}/{i}", subset, response, reference, f"<m>:{i}", None, question=question, image_size=size
    )


def breakdowns(by_subset):
    return score_predictions(by_subset, captions=False)["breakdowns"]


def test_size_words_follow_protocol_thresholds():
    assert size_word((0, 0, 40, 100), 100, 100) == "very large"  # R = 0.4
    assert size_word((0, 0, 25, 100), 100, 100) == "large"
    assert size_word((0, 0, 10, 100), 100, 100) == "medium"
    assert size_word((0, 0, 3, 100), 100, 100) == "small"
    assert size_word((0, 0, 2.9, 100), 100, 100) == "very small"
    assert size_word((5, 5, 5, 9), 100, 100) == "very small"


def test_classify_and_refer_categories():
    result = breakdowns(
        {
            "classify": [
                prediction("classify", "It is ship.", "It is ship."),
                prediction("classify", "It is car.", "It is tank.", i=1),
            ],
            "refer_single": [
                prediction(
                    "refer_single", "{<0><0><10><10>}", "{<0><0><10><10>}", question="[refer] Locate 1 aircraft."
                )
            ],
        }
    )["category"]
    assert result["ship"]["classify.acc"] == 100 and result["ship"]["n"] == 1
    assert result["tank"]["classify.acc"] == 0
    assert result["aircraft"]["refer.single.iou50"] == 100


def test_grounding_categories_add_up_and_sizes():
    ref = "a ship {<0><0><10><10>} and a tank {<50><50><100><100>}"
    pred = "a ship {<0><0><10><10>} and a car {<50><50><100><100>}"
    result = breakdowns({"grounding_multi": [prediction("grounding_multi", pred, ref, size=(100, 100))]})
    category = result["category"]
    assert category["ship"]["grounding.multi"] == 100
    assert category["tank"]["grounding.multi"] == 0 and category["car"]["grounding.multi"] == 0
    size = result["size"]
    assert size["very small"]["grounding.multi"] == 100  # ship: 1% of the image
    # the tank (25%, large) is missed, the car (large) is a false positive: TP 0, FP 1, FN 1
    assert size["large"]["grounding.multi"] == 0 and size["large"]["n"] == 1
    assert result["coverage"] == {"box_samples": 1, "box_samples_with_image_size": 1}


def test_count_category_and_missing_sizes():
    result = breakdowns(
        {
            "count": [
                prediction(
                    "count",
                    "There are 1 instances. {<0><0><10><10>}",
                    "There are 1 instances. {<0><0><10><10>}",
                    question="[count] Count the harbors.",
                ),
                prediction(
                    "count",
                    "There are 3 instances.",
                    "There are 1 instances. {<0><0><10><10>}",
                    question="Count them.",
                    i=1,
                ),
            ]
        }
    )
    assert result["category"]["harbor"]["count.only"] == 100
    assert result["category"]["harbor"]["n"] == 1
    assert result["size"] == {}
    assert result["coverage"]["box_samples_with_image_size"] == 0


def test_samples_behind_each_cell():
    ref = "a ship {<0><0><10><10>} and a ship {<20><20><30><30>}"
    result = breakdowns(
        {
            "grounding_multi": [
                prediction("grounding_multi", "a car {<0><0><10><10>}", ref, size=(100, 100)),
                prediction("grounding_multi", "a ship {<0><0><10><10>}", ref, size=(100, 100), i=1),
            ],
            "count": [prediction("count", "There are 2 instances.", "There are 1 instances.", "[count] Count ships.")],
        }
    )
    samples = result["samples"]
    assert samples["category"]["ship"] == {"grounding.multi": 2, "count.iou25": 1, "count.iou50": 1, "count.only": 1}
    assert samples["category"]["car"] == {"grounding.multi": 0}  # predicted only: nothing to rest on
    assert samples["size"]["very small"] == {"grounding.multi": 2}  # two samples, four reference boxes
    assert result["size"]["very small"]["n"] == 4
