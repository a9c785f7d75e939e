"""A model's inference.yml (PaddleOCR's format) as the manifest's preprocessing and head, and the runtime's resize modes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from paddle_edge.runtime.errors import PaddleEdgeError
from paddle_edge.runtime.opencv_resize import resize_linear
from paddle_edge.runtime.manifest import ImageSpec, Manifest, Preprocess, Resize
from paddle_edge.runtime.preprocess import images_to_batch, load_image, target_size
from paddle_edge.source.model_config import read_model_config

PUBLISHED = Path(__file__).resolve().parents[1] / "source" / "published"


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inference.yml"
    path.write_text(text)
    return path


def test_the_published_configs_read_as_paddleocr_runs_them():
    det = read_model_config(PUBLISHED / "ppocr-det.yml")
    assert det.task == "text_detection" and det.preprocess.image.resize == Resize("limit_side", side=736, limit="min", interpolation="opencv")
    assert det.postprocess["db"] == {"thresh": 0.3, "box_thresh": 0.5, "max_candidates": 1000, "unclip_ratio": 1.6, "use_dilation": True}
    cls = read_model_config(PUBLISHED / "ppocr-cls.yml")
    assert cls.labels == ("0", "180") and cls.preprocess.image == ImageSpec("BGR", Resize("pad_right", 48, 192, interpolation="opencv"))
    # (x / 255 - 0.5) / 0.5 per channel, as PaddleOCR's ClsResizeImg normalises
    assert np.allclose(cls.preprocess.scale, 2 / 255) and np.allclose(cls.preprocess.offset, -1)


def test_normalize_image_becomes_scale_and_offset(tmp_path):
    config = read_model_config(_config(tmp_path, """
PreProcess:
  transform_ops:
  - DecodeImage: {img_mode: RGB}
  - ResizeImage: {size: [224, 200]}
  - NormalizeImage: {scale: 1./255., mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], order: ''}
PostProcess: {name: Topk, topk: 5, label_list: [cat, dog]}
"""))
    pixels = np.array([0.0, 128.0, 255.0])
    expected = (pixels[:, None] / 255 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    got = pixels[:, None] * np.array(config.preprocess.scale) + np.array(config.preprocess.offset)
    assert np.allclose(got, expected) and config.preprocess.image.resize == Resize("stretch", 200, 224, interpolation="opencv")
    assert config.task == "classification" and config.labels == ("cat", "dog")


def test_a_ctc_dictionary_gets_blank_first_and_the_space_last(tmp_path):
    (tmp_path / "keys.txt").write_text("a\nb\n")
    config = read_model_config(_config(tmp_path, """
PreProcess:
  transform_ops:
  - RecResizeImg: {image_shape: [3, 48, 320]}
PostProcess: {name: CTCLabelDecode, character_dict_path: keys.txt, use_space_char: true}
"""))
    assert config.labels == ("blank", "a", "b", " ") and config.preprocess.image.resize.grow


def test_paddleclas_s_class_id_map_file_names_the_classes(tmp_path):
    (tmp_path / "imagenet1k_label_list.txt").write_text("1 goldfish, Carassius auratus\n0 tench, Tinca tinca\n")
    config = read_model_config(_config(tmp_path, """
PreProcess:
  transform_ops:
  - ResizeImage: {resize_short: 256}
  - CropImage: {size: 224}
PostProcess:
  main_indicator: Topk
  Topk: {topk: 5, class_id_map_file: imagenet1k_label_list.txt}
"""))
    assert config.task == "classification" and config.labels == ("tench, Tinca tinca", "goldfish, Carassius auratus")
    (tmp_path / "imagenet1k_label_list.txt").write_text("0 tench\n2 goldfish\n")
    with pytest.raises(PaddleEdgeError, match="numbers its classes 0..2 with gaps"):
        read_model_config(tmp_path / "inference.yml")
    (tmp_path / "imagenet1k_label_list.txt").write_text("0\ttench\n1\tgoldfish\n")
    with pytest.raises(PaddleEdgeError, match=r"imagenet1k_label_list.txt:1: '0\\ttench' is not `id name`"):
        read_model_config(tmp_path / "inference.yml")
    text = (tmp_path / "inference.yml").read_text().replace("class_id_map_file:", "delimiter: \"\\t\", class_id_map_file:")
    assert read_model_config(_config(tmp_path, text)).labels == ("tench", "goldfish")


@pytest.mark.parametrize("text, said", [
    ("PreProcess:\n  transform_ops:\n  - GridMask: {}\n", "GridMask is not an op paddle-edge can repeat"),
    ("PreProcess:\n  transform_ops:\n  - ClsResizeImg: {image_shap: [3, 48, 192]}\n", "keys this reader does not know: ['image_shap']"),
    ("PreProcess:\n  transform_ops:\n  - ClsResizeImg: {image_shape: [3, 0, 192]}\n", "must be [channels (1 or 3), height, width]"),
    ("PreProcess:\n  transform_ops:\n  - DecodeImage: {img_mode: BGR}\n", "no resize step"),
    ("PreProcess:\n  transform_ops:\n  - ResizeImage: {resize_short: 256}\n", "without CropImage gives every image its own size"),
    ("PreProcess:\n  transform_ops:\n  - ResizeImage: {resize_short: 200}\n  - CropImage: {size: 224}\n",
     "resize_short 200 is smaller than CropImage.size 224"),
    ("PreProcess:\n  transform_ops:\n  - ResizeImage: {size: 224, interpolation: bicubic}\n", "interpolation bicubic is not a bilinear"),
    ("PreProcess:\n  transform_ops:\n  - ResizeImage: {size: 224, backend: pil}\n", "backend pil and interpolation its default"),
    ("PreProcess:\n  transform_ops:\n  - DecodeImage: {img_mode: BGR, to_rgb: true}\n", "names its colour twice"),
    ("PreProcess:\n  transform_ops:\n  - CropImage: {size: 224}\n", "CropImage is supported after ResizeImage resize_short only"),
    ("PreProcess:\n  transform_ops:\n  - RecResizeImg: {image_shape: [3, 48, 320]}\n  - NormalizeImage: {mean: [0.5], std: [0.5]}\n",
     "need 3 values each"),
    ("PreProcess:\n  transform_ops:\n  - RecResizeImg: {image_shape: [3, 48, 320]}\n  - NormalizeImage: {channel_num: 4}\n",
     "adds no 4th channel of zeros"),
    ("PreProcess:\n  transform_ops:\n  - RecResizeImg: {image_shape: [3, 48, 320]}\n  - NormalizeImage: {order: nhwc}\n",
     "'nhwc' is not hwc or chw"),
    ("PreProcess:\n  transform_ops:\n  - RecResizeImg: {image_shape: [3, 48, 320]}\nPostProcess: {name: SARLabelDecode}\n",
     "'SARLabelDecode' is not a head"),
    ("PreProcess:\n  transform_ops:\n  - DetResizeForTest: {}\nPostProcess: {name: DBPostProcess, box_type: poly}\n", "box_type quad"),
    ("PreProcess:\n  transform_ops:\n  - DetResizeForTest: {}\nPostProcess: {name: DBPostProcess, thresh: -1, box_thresh: 7}\n",
     "thresh=-1.0, box_thresh=7.0 (a probability: at most 1)"),
    ("PreProcess:\n  transform_ops:\n  - DetResizeForTest: {}\nPostProcess: {name: DBPostProcess, max_candidates: 0}\n",
     "max_candidates=0 (no region would be looked at)"),
    ("PreProcess:\n  transform_ops:\n  - RecResizeImg: {image_shape: [3, 48, 320]}\n"
     "PostProcess: {name: CTCLabelDecode, character_dict: [a], bogus_key: 3}\n", "CTCLabelDecode has keys this reader does not know: ['bogus_key']"),
    ("PreProcess:\n  transform_ops:\n  - ClsResizeImg: {image_shape: [3, 48, 192]}\nPostProcess: {name: ClsPostProcess, typo_key: 1}\n",
     "ClsPostProcess has keys this reader does not know: ['typo_key']"),
    ("PreProcess:\n  transform_ops:\n  - ClsResizeImg: {image_shape: [3, 48, 192]}\nPostProcess: {Topk: {topk: 1, class_ids: m.txt}}\n",
     "Topk has keys this reader does not know: ['class_ids']"),
    ("PreProcess:\n  transform_ops:\n  - ClsResizeImg: {image_shape: [3, 48, 192]}\nPostProcess: {Topk: {topk: 1, class_id_map_file: m.txt}}\n",
     "class_id_map_file"),
    ("PreProcess:\n  transform_ops:\n  - RecResizeImg: {image_shape: [3, 48, 320]}\n  - NormalizeImage: {scale: -5}\n",
     "NormalizeImage.scale must be positive"),
    ("PreProcess:\n  transform_ops:\n  - ClsResizeImg: {image_shape: [3, 48, 192]}\nPostProcess: {Topk: null}\n",
     "PostProcess Topk must be a mapping like {topk: 1, label_list: [...]}, not None"),
    ("Preprocess: {}\n", "has no PreProcess.transform_ops"),
    ("PreProcess: [unclosed\n", "is not valid YAML"),
])
def test_a_config_this_reader_cannot_repeat_is_refused_by_name(tmp_path, text, said):
    with pytest.raises(PaddleEdgeError, match=None) as caught:
        read_model_config(_config(tmp_path, text))
    assert said in str(caught.value) and "fix:" in str(caught.value)


@pytest.mark.parametrize("size, resize, expected", [
    ((480, 640), Resize("limit_side", side=736, limit="min"), (736, 992)),   # the short side grows to 736, sides to x32
    ((1000, 800), Resize("limit_side", side=736, limit="min"), (992, 800)),  # already large enough: only rounded
    ((1000, 2000), Resize("limit_side", side=960, limit="max"), (480, 960)),
    ((10, 10), Resize("limit_side", side=736, limit="max"), (32, 32)),       # never below one multiple
    ((48, 96), Resize("pad_right", 48, 192), (48, 96)),
    ((24, 400), Resize("pad_right", 48, 192), (48, 192)),                    # squeezed into the width
    ((24, 400), Resize("pad_right", 48, 320, grow=True), (48, 800)),         # a recogniser's batch widens instead
    ((480, 640), Resize("short_crop", 224, 224, side=256), (256, 341)),      # PaddleClas: round(640 * 256 / 480) = round(341.33)
    ((300, 500), Resize("short_crop", 224, 224, side=256), (256, 427)),      # round(426.67)
    ((512, 200), Resize("short_crop", 224, 224, side=256), (655, 256)),      # round(655.36)
    ((100, 125), Resize("short_crop", 224, 224, side=256), (256, 320)),
])
def test_resize_modes_give_paddleocrs_sizes(size, resize, expected):
    assert target_size(*size, resize) == expected


def test_pad_right_pads_with_zeros_after_normalisation_and_bgr_reverses_channels(tmp_path):
    image = np.zeros((24, 48, 3), np.uint8)
    image[..., 0] = 200  # red
    path = tmp_path / "red.png"
    Image.fromarray(image).save(path)
    pre = Preprocess(scale=[2 / 255] * 3, offset=[-1.0] * 3, image=ImageSpec("BGR", Resize("pad_right", 48, 192)))
    batch = images_to_batch([path], pre)
    assert batch.shape == (1, 3, 48, 192)
    assert np.allclose(batch[0, :, :, 96:], 0)  # the padding is 0 in the model's units, as PaddleOCR pads
    assert np.allclose(batch[0, 2, :, :96], 200 * 2 / 255 - 1) and np.allclose(batch[0, 0, :, :96], -1)  # red is last in BGR
    assert load_image(path, pre.image).shape == (3, 48, 96)


def test_paddleclas_s_resize_short_and_centre_crop(tmp_path):
    config = read_model_config(_config(tmp_path, """
PreProcess:
  transform_ops:
  - DecodeImage: {to_rgb: true, channel_first: false}
  - ResizeImage: {resize_short: 256, backend: cv2}
  - CropImage: {size: 224}
  - NormalizeImage: {scale: 0.00392156862745098, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], order: ''}
  - ToCHWImage:
PostProcess: {Topk: {topk: 5, label_list: [a, b]}}
"""))
    spec = config.preprocess.image
    assert spec == ImageSpec("RGB", Resize("short_crop", 224, 224, side=256, interpolation="opencv")) and spec.resize.fixed_size == (224, 224)
    pixels = np.random.default_rng(0).integers(0, 256, (300, 500, 3), dtype=np.uint8)
    path = tmp_path / "wide.png"
    Image.fromarray(pixels).save(path)
    scaled = resize_linear(pixels, 256, 427).astype(np.float32)  # backend cv2: OpenCV's bilinear (test_opencv_resize.py)
    want = scaled[16:240, 101:325].transpose(2, 0, 1)  # the centre: (256 - 224) // 2 rows, (427 - 224) // 2 columns down
    assert np.array_equal(load_image(path, spec), want)
    assert images_to_batch([path, path], config.preprocess).shape == (2, 3, 224, 224)


def test_images_of_different_sizes_for_a_detector_are_refused_together(tmp_path):
    pre = Preprocess(image=ImageSpec("RGB", Resize("limit_side", side=64, limit="max")))
    paths = []
    for i, size in enumerate(((40, 60), (60, 40))):
        paths.append(tmp_path / f"{i}.png")
        Image.new("RGB", size).save(paths[-1])
    with pytest.raises(PaddleEdgeError, match="resize to different sizes"):
        images_to_batch(paths, pre)


def test_a_schema_1_manifest_still_reads():
    old = {"schema_version": 1, "model": "m", "task": "classification", "inputs": [], "outputs": [], "artifacts": {},
           "preprocess": {"scale": 1, "offset": 0, "image": {"color": "L", "size": [28, 28], "invert_light_background": True}}}
    assert Manifest.from_dict(old).preprocess.image == ImageSpec("L", Resize("stretch", 28, 28), True)
