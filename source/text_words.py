"""What synthetic text says: Latin lines of words, numbers, dates, prices, times and codes, and Chinese lines of common
words mixed with dates, amounts, ordinals, punctuation and Latin tokens, each drawn to a width and paired with a face;
every character drawn is in ASCII_CHARS or CJK_CHARS."""
from __future__ import annotations

import random
from typing import Optional, Sequence, Tuple

from .text_draws import digits, integer, pick
from .text_fonts import FontFace

# Every character drawn is in PaddleOCR's ppocr_keys_v1.txt (space included: the PP-OCR configs set use_space_char).
ASCII_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-/()%$#@&+'"
_WORDS = ("invoice", "total", "amount", "date", "order", "customer", "address", "street", "city", "phone", "email",
          "price", "quantity", "item", "receipt", "payment", "balance", "account", "number", "store", "coffee", "bread",
          "milk", "apple", "ticket", "station", "platform", "exit", "open", "closed", "hours", "monday", "friday",
          "sale", "discount", "tax", "subtotal", "cash", "card", "change", "thank", "you", "welcome", "paddle", "edge",
          "board", "model", "river", "north", "south", "road", "room", "floor", "page", "section", "report", "net",
          "weight", "batch", "serial", "model", "voltage", "power", "input", "output", "made", "in", "use", "by")
_CJK_WORDS = ("公司", "日期", "金额", "电话", "地址", "银行", "名称", "数量", "总计", "中国", "大学", "发票", "价格",
              "合计", "人民", "时间", "北京", "上海", "号码", "单位", "订单", "编号", "客户", "商品", "单价", "备注",
              "联系人", "手机", "邮箱", "网址", "城市", "街道", "大厦", "广场", "医院", "学校", "超市", "餐厅", "咖啡",
              "面包", "牛奶", "苹果", "车票", "车站", "站台", "出口", "入口", "营业", "星期一", "星期五", "周末", "折扣",
              "税额", "小计", "现金", "刷卡", "找零", "谢谢", "欢迎", "光临", "会员", "积分", "余额", "账户", "收据",
              "付款", "退款", "发货", "配送", "快递", "包装", "重量", "尺寸", "颜色", "型号", "规格", "批次", "生产",
              "保质期", "有效期", "产地", "厂家", "电压", "功率", "输入", "输出", "注意", "安全", "禁止", "吸烟", "请勿",
              "停车", "开放", "关闭", "楼层", "房间", "会议室", "办公室", "部门", "经理", "报告", "第一", "第二", "章节",
              "天气", "温度", "湿度", "南京", "广州", "深圳", "杭州", "成都", "武汉", "西安", "重庆", "天津", "长江",
              "黄河", "东路", "西路", "南路", "北路", "中心", "服务", "科技", "有限", "责任", "股份", "集团", "工业",
              "农业", "交通", "运输", "教育", "文化", "体育", "健康", "环境", "能源", "数据", "网络", "信息", "系统",
              "管理", "设计", "开发", "测试", "版本")
CJK_CHARS = "".join(sorted(set("".join(_CJK_WORDS) + "年月日元第页号件￥，、：")))  # every non-ASCII character drawn
_CJK_PUNCTUATION = "，、："
_CHINESE_SHARE = 0.4  # of the lines, drawn in a Noto CJK face


def _token(rng: random.Random) -> str:
    """One token of a Latin line: a word (lower, Title or UPPER case), a number, date, price, percentage, time, code or
    e-mail address."""
    kind = rng.random()
    if kind < 0.55:
        word, case = pick(rng, _WORDS), rng.random()
        word = word if case < 0.5 else word.title() if case < 0.8 else word.upper()
        return word + (pick(rng, ",.:;") if rng.random() < 0.1 else "")
    if kind < 0.65:
        return str(integer(rng, (0, 99999)))
    if kind < 0.72:
        year, month, day = integer(rng, (1990, 2030)), integer(rng, (1, 12)), integer(rng, (1, 28))
        return f"{year}-{month:02d}-{day:02d}" if rng.random() < 0.5 else f"{day:02d}/{month:02d}/{year}"
    if kind < 0.79:
        return pick(rng, ("$", "", "+")) + f"{integer(rng, (0, 999))}.{digits(rng, 2)}"
    if kind < 0.84:
        return pick(rng, ("{}%", "({}%)", "-{}%")).format(integer(rng, (1, 99)))
    if kind < 0.89:
        return f"{integer(rng, (0, 23)):02d}:{integer(rng, (0, 59)):02d}"
    if kind < 0.93:
        return pick(rng, ("#", "No.", "A-", "B/")) + digits(rng, integer(rng, (2, 5)))
    if kind < 0.96:
        return f"{pick(rng, _WORDS)}@{pick(rng, _WORDS)}.com"
    return pick(rng, ("it's", "R&D", "A&B", "Q&A", "don't", "+86", "(c)"))


def _chinese_token(rng: random.Random) -> str:
    """One token of a Chinese line: a word, a date, an amount, an ordinal, a punctuation mark or a Latin token."""
    kind = rng.random()
    if kind < 0.55:
        return pick(rng, _CJK_WORDS)
    if kind < 0.63:
        date = f"{integer(rng, (1990, 2030))}年{integer(rng, (1, 12))}月"
        return date + (f"{integer(rng, (1, 28))}日" if rng.random() < 0.5 else "")
    if kind < 0.7:
        return f"{integer(rng, (1, 9999))}元" if rng.random() < 0.5 else f"￥{integer(rng, (0, 999))}.{digits(rng, 2)}"
    if kind < 0.75:
        return f"第{integer(rng, (1, 99))}{pick(rng, '页号件')}"
    if kind < 0.85:
        return pick(rng, _CJK_PUNCTUATION)
    return _token(rng)


def _wide(char: str) -> bool:
    return ord(char) > 0x2E7F


def _width(text: str) -> int:
    """The width of `text` in Latin characters: a Chinese character counts two."""
    return sum(2 if _wide(c) else 1 for c in text)


def _joined(left: str, right: str) -> str:
    """Two pieces of a line: a space between Latin ones only; no punctuation mark at a line's start or after another."""
    if right in _CJK_PUNCTUATION and (not left or left[-1] in _CJK_PUNCTUATION):
        return left
    if left and not _wide(left[-1]) and not _wide(right[0]):
        return f"{left} {right}"
    return left + right


def line_text(rng: random.Random, fonts: Sequence[FontFace], lengths: Tuple[int, int],
              face: Optional[FontFace] = None) -> Tuple[str, FontFace]:
    """A line of text and the face to draw it with (`face` where given): Chinese in a Noto CJK face for 40 % of the
    lines, else Latin in DejaVu; its width in Latin characters is drawn from `lengths`."""
    chinese = face.cjk if face is not None else rng.random() < _CHINESE_SHARE
    target, longest = integer(rng, lengths), lengths[1]
    token = _chinese_token if chinese else _token
    line = ""
    while _width(line) < target:
        line = _joined(line, token(rng))
    while _width(line) > longest:
        line = line[:-1]
    line = line.rstrip().rstrip(_CJK_PUNCTUATION).rstrip()
    if face is None:
        face = pick(rng, [f for f in fonts if f.cjk == chinese])
    return line, face
