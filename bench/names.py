"""Realistic Japanese names for the benchmarks: surnames at their national shares, given names
spread the same way, in kanji and katakana, and the foreign residents' names in katakana.

Shares: the 100 most common surnames with their approximate number of bearers in Japan (in
thousands, after the published surname rankings), which together are about a third of the
population; the other two thirds are a long tail. The tail is made of compounds of common
name elements (上 + 田, 松 + 沢 …) whose shares fall off as a power of their rank, continuing
smoothly from where the top 100 end, as the real tail does. The tail decides what a search by
one kana or by a rare name finds, so it must be long and thin, not a few invented names with
large shares.

Given names follow the same shape: about 50 common names per sex (of every generation, so
ヒロシ and ハルト both appear) with decreasing weights, then a tail of compounds.

Every name carries what makes kana ordering delicate: voiced marks (ゴトウ, ダイスケ), small
kana (ショウタ, キョウコ, ジュン) and, in foreign names, the long vowel mark (ルーカス, レー).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple


class Name(NamedTuple):
    kanji: str
    kana: str
    weight: int  # relative: bearers in Japan for surnames, a share for given names


# (kanji, katakana, thousands of bearers)
TOP_SURNAMES: tuple[tuple[str, str, int], ...] = (
    ("佐藤", "サトウ", 1862), ("鈴木", "スズキ", 1796), ("高橋", "タカハシ", 1414),
    ("田中", "タナカ", 1327), ("伊藤", "イトウ", 1080), ("渡辺", "ワタナベ", 1065),
    ("山本", "ヤマモト", 1063), ("中村", "ナカムラ", 1052), ("小林", "コバヤシ", 1035),
    ("加藤", "カトウ", 888), ("吉田", "ヨシダ", 844), ("山田", "ヤマダ", 813),
    ("佐々木", "ササキ", 678), ("山口", "ヤマグチ", 641), ("松本", "マツモト", 630),
    ("井上", "イノウエ", 610), ("木村", "キムラ", 575), ("林", "ハヤシ", 541),
    ("斎藤", "サイトウ", 529), ("清水", "シミズ", 518), ("山崎", "ヤマザキ", 484),
    ("森", "モリ", 470), ("池田", "イケダ", 445), ("橋本", "ハシモト", 443), ("阿部", "アベ", 439),
    ("石川", "イシカワ", 432), ("山下", "ヤマシタ", 421), ("中島", "ナカジマ", 414),
    ("石井", "イシイ", 403), ("小川", "オガワ", 403), ("前田", "マエダ", 391),
    ("岡田", "オカダ", 389), ("長谷川", "ハセガワ", 385), ("藤田", "フジタ", 381),
    ("後藤", "ゴトウ", 375), ("近藤", "コンドウ", 372), ("村上", "ムラカミ", 359),
    ("遠藤", "エンドウ", 344), ("青木", "アオキ", 340), ("坂本", "サカモト", 333),
    ("斉藤", "サイトウ", 324), ("福田", "フクダ", 322), ("太田", "オオタ", 318),
    ("西村", "ニシムラ", 313), ("藤井", "フジイ", 305), ("金子", "カネコ", 294),
    ("岡本", "オカモト", 293), ("藤原", "フジワラ", 293), ("中野", "ナカノ", 292),
    ("三浦", "ミウラ", 286), ("原田", "ハラダ", 285), ("中川", "ナカガワ", 285),
    ("松田", "マツダ", 284), ("竹内", "タケウチ", 282), ("小野", "オノ", 280),
    ("田村", "タムラ", 276), ("中山", "ナカヤマ", 271), ("和田", "ワダ", 261),
    ("石田", "イシダ", 260), ("森田", "モリタ", 258), ("上田", "ウエダ", 256), ("原", "ハラ", 254),
    ("内田", "ウチダ", 250), ("柴田", "シバタ", 248), ("酒井", "サカイ", 244),
    ("宮崎", "ミヤザキ", 241), ("横山", "ヨコヤマ", 240), ("高木", "タカギ", 236),
    ("安藤", "アンドウ", 234), ("宮本", "ミヤモト", 233), ("大野", "オオノ", 232),
    ("小島", "コジマ", 230), ("谷口", "タニグチ", 225), ("今井", "イマイ", 224),
    ("工藤", "クドウ", 223), ("高田", "タカダ", 221), ("増田", "マスダ", 215),
    ("丸山", "マルヤマ", 214), ("杉山", "スギヤマ", 213), ("村田", "ムラタ", 211),
    ("大塚", "オオツカ", 210), ("新井", "アライ", 209), ("小山", "コヤマ", 206),
    ("平野", "ヒラノ", 203), ("藤本", "フジモト", 202), ("河野", "コウノ", 201),
    ("上野", "ウエノ", 201), ("野口", "ノグチ", 199), ("武田", "タケダ", 199),
    ("松井", "マツイ", 198), ("千葉", "チバ", 196), ("岩崎", "イワサキ", 195),
    ("菅原", "スガワラ", 194), ("木下", "キノシタ", 193), ("久保", "クボ", 192),
    ("佐野", "サノ", 191), ("野村", "ノムラ", 190), ("松尾", "マツオ", 189),
    ("市川", "イチカワ", 187), ("菊地", "キクチ", 186),
)  # fmt: skip

# Bearers in Japan, in thousands; the top 100 above hold about 41 million of them.
POPULATION_THOUSANDS = 124_000

# First and second elements of compound surnames: (kanji, reading, voiced reading or "").
_FIRST = (
    ("上", "ウエ"), ("下", "シモ"), ("中", "ナカ"), ("大", "オオ"), ("小", "コ"), ("石", "イシ"),
    ("岩", "イワ"), ("松", "マツ"), ("竹", "タケ"), ("梅", "ウメ"), ("杉", "スギ"), ("森", "モリ"),
    ("北", "キタ"), ("南", "ミナミ"), ("東", "ヒガシ"), ("西", "ニシ"), ("高", "タカ"),
    ("長", "ナガ"), ("広", "ヒロ"), ("古", "フル"), ("新", "ニイ"), ("今", "イマ"), ("平", "ヒラ"),
    ("吉", "ヨシ"), ("福", "フク"), ("金", "カナ"), ("黒", "クロ"), ("白", "シラ"), ("青", "アオ"),
    ("赤", "アカ"), ("宮", "ミヤ"), ("浜", "ハマ"), ("川", "カワ"), ("山", "ヤマ"), ("田", "タ"),
    ("野", "ノ"), ("秋", "アキ"), ("春", "ハル"), ("桜", "サクラ"), ("菊", "キク"), ("藤", "フジ"),
    ("柳", "ヤナギ"), ("桑", "クワ"), ("栗", "クリ"), ("柿", "カキ"), ("稲", "イナ"),
    ("前", "マエ"), ("奥", "オク"), ("内", "ウチ"), ("外", "ソト"), ("岡", "オカ"), ("坂", "サカ"),
    ("沢", "サワ"), ("早", "ハヤ"), ("若", "ワカ"), ("丸", "マル"), ("寺", "テラ"), ("水", "ミズ"),
    ("片", "カタ"), ("原", "ハラ"), ("荒", "アラ"), ("熊", "クマ"), ("鶴", "ツル"), ("亀", "カメ"),
    ("鳥", "トリ"), ("星", "ホシ"), ("関", "セキ"), ("堀", "ホリ"), ("菅", "スガ"), ("萩", "ハギ"),
)  # fmt: skip
_SECOND = (
    ("田", "タ", "ダ"), ("川", "カワ", "ガワ"), ("山", "ヤマ", ""), ("野", "ノ", ""),
    ("村", "ムラ", ""), ("井", "イ", ""), ("島", "シマ", "ジマ"), ("沢", "サワ", "ザワ"),
    ("原", "ハラ", "バラ"), ("本", "モト", ""), ("口", "クチ", "グチ"), ("崎", "サキ", "ザキ"),
    ("谷", "タニ", "ダニ"), ("木", "キ", "ギ"), ("林", "ハヤシ", "バヤシ"), ("橋", "ハシ", "バシ"),
    ("部", "ベ", ""), ("尾", "オ", ""), ("岡", "オカ", ""), ("浦", "ウラ", ""), ("瀬", "セ", "ゼ"),
    ("松", "マツ", ""), ("宮", "ミヤ", ""), ("坂", "サカ", "ザカ"), ("塚", "ツカ", "ヅカ"),
    ("池", "イケ", ""), ("森", "モリ", ""), ("内", "ウチ", ""), ("城", "シロ", "ジロ"),
    ("倉", "クラ", "グラ"), ("江", "エ", ""), ("地", "チ", "ジ"), ("屋", "ヤ", ""),
    ("里", "サト", "ザト"), ("堀", "ホリ", "ボリ"), ("畑", "ハタ", "バタ"), ("西", "ニシ", ""),
    ("場", "バ", ""), ("津", "ツ", "ヅ"), ("丘", "オカ", ""),
)  # fmt: skip

MALE_GIVEN: tuple[tuple[str, str, int], ...] = (
    ("浩", "ヒロシ", 60), ("誠", "マコト", 58), ("清", "キヨシ", 55), ("茂", "シゲル", 52),
    ("隆", "タカシ", 50), ("博", "ヒロシ", 48), ("修", "オサム", 46), ("勇", "イサム", 45),
    ("実", "ミノル", 44), ("進", "ススム", 42), ("明", "アキラ", 41), ("豊", "ユタカ", 40),
    ("正", "タダシ", 39), ("学", "マナブ", 38), ("健一", "ケンイチ", 37), ("大輔", "ダイスケ", 37),
    ("拓也", "タクヤ", 36), ("翔太", "ショウタ", 36), ("健太", "ケンタ", 35),
    ("達也", "タツヤ", 34), ("和也", "カズヤ", 34), ("直樹", "ナオキ", 33), ("大樹", "ダイキ", 32),
    ("翔", "ショウ", 31), ("蓮", "レン", 31), ("陽翔", "ハルト", 30), ("湊", "ミナト", 29),
    ("悠真", "ユウマ", 28), ("大翔", "ヒロト", 28), ("颯太", "ソウタ", 27), ("樹", "イツキ", 26),
    ("悠人", "ユウト", 26), ("一郎", "イチロウ", 25), ("太郎", "タロウ", 25),
    ("健二", "ケンジ", 24), ("雄一", "ユウイチ", 24), ("浩二", "コウジ", 23),
    ("秀樹", "ヒデキ", 23), ("智也", "トモヤ", 22), ("亮", "リョウ", 22),
    ("涼介", "リョウスケ", 21), ("隼人", "ハヤト", 21), ("恭平", "キョウヘイ", 20),
    ("駿", "シュン", 20), ("純一", "ジュンイチ", 19), ("俊介", "シュンスケ", 19),
    ("優斗", "ユウト", 18), ("蒼", "アオイ", 18), ("律", "リツ", 17), ("朝陽", "アサヒ", 17),
    ("勝", "マサル", 16), ("三郎", "サブロウ", 15),
)  # fmt: skip
FEMALE_GIVEN: tuple[tuple[str, str, int], ...] = (
    ("幸子", "サチコ", 60), ("和子", "カズコ", 58), ("節子", "セツコ", 55), ("洋子", "ヨウコ", 52),
    ("恵子", "ケイコ", 50), ("京子", "キョウコ", 48), ("久美子", "クミコ", 46),
    ("由美子", "ユミコ", 45), ("裕子", "ユウコ", 44), ("直美", "ナオミ", 42),
    ("明美", "アケミ", 41), ("真由美", "マユミ", 40), ("智子", "トモコ", 39),
    ("陽子", "ヨウコ", 38), ("美穂", "ミホ", 37), ("愛", "アイ", 37), ("恵", "メグミ", 36),
    ("舞", "マイ", 36), ("彩", "アヤ", 35), ("美咲", "ミサキ", 34), ("麻衣", "マイ", 34),
    ("沙織", "サオリ", 33), ("優子", "ユウコ", 32), ("千尋", "チヒロ", 31), ("陽菜", "ヒナ", 31),
    ("結衣", "ユイ", 30), ("さくら", "サクラ", 29), ("美羽", "ミウ", 28), ("葵", "アオイ", 28),
    ("凛", "リン", 27), ("紬", "ツムギ", 26), ("結菜", "ユイナ", 26), ("芽依", "メイ", 25),
    ("杏", "アン", 25), ("莉子", "リコ", 24), ("花子", "ハナコ", 24), ("春子", "ハルコ", 23),
    ("文子", "フミコ", 23), ("美代子", "ミヨコ", 22), ("ちよ", "チヨ", 22), ("由紀", "ユキ", 21),
    ("香織", "カオリ", 21), ("理恵", "リエ", 20), ("亜希子", "アキコ", 20), ("奈々", "ナナ", 19),
    ("早紀", "サキ", 19), ("瑞希", "ミズキ", 18), ("琴音", "コトネ", 18), ("心春", "コハル", 17),
    ("澪", "ミオ", 17), ("順子", "ジュンコ", 16), ("しょう子", "ショウコ", 15),
)  # fmt: skip
_MALE_FIRST = (
    ("健", "ケン"), ("大", "ダイ"), ("拓", "タク"), ("直", "ナオ"), ("和", "カズ"), ("達", "タツ"),
    ("雄", "ユウ"), ("正", "マサ"), ("秀", "ヒデ"), ("光", "コウ"), ("俊", "トシ"), ("康", "ヤス"),
    ("義", "ヨシ"), ("信", "ノブ"), ("英", "ヒデ"), ("孝", "タカ"), ("勝", "カツ"), ("昭", "アキ"),
    ("晴", "ハル"), ("龍", "リュウ"), ("祐", "ユウ"), ("智", "トモ"), ("恭", "キョウ"),
    ("純", "ジュン"),
)  # fmt: skip
_MALE_SECOND = (
    ("太", "タ"), ("介", "スケ"), ("也", "ヤ"), ("樹", "キ"), ("人", "ト"), ("斗", "ト"),
    ("一", "イチ"), ("郎", "ロウ"), ("平", "ヘイ"), ("彦", "ヒコ"), ("志", "シ"), ("治", "ジ"),
    ("夫", "オ"), ("男", "オ"), ("輝", "キ"), ("真", "マ"), ("生", "キ"), ("吾", "ゴ"),
)  # fmt: skip
_FEMALE_FIRST = (
    ("美", "ミ"), ("恵", "エ"), ("由", "ユ"), ("真", "マ"), ("愛", "アイ"), ("彩", "アヤ"),
    ("優", "ユウ"), ("陽", "ヒ"), ("千", "チ"), ("友", "トモ"), ("久", "ヒサ"), ("静", "シズ"),
    ("菜", "ナ"), ("紀", "ノリ"), ("悦", "エツ"), ("早", "サ"), ("咲", "サキ"), ("里", "リ"),
    ("亜", "ア"), ("知", "チ"), ("律", "リツ"), ("春", "ハル"), ("夏", "ナツ"), ("冬", "フユ"),
)  # fmt: skip
_FEMALE_SECOND = (
    ("子", "コ"), ("美", "ミ"), ("香", "カ"), ("奈", "ナ"), ("花", "カ"), ("菜", "ナ"),
    ("衣", "イ"), ("穂", "ホ"), ("江", "エ"), ("代", "ヨ"), ("乃", "ノ"), ("絵", "エ"),
    ("恵", "エ"), ("里", "リ"), ("希", "キ"), ("紗", "サ"), ("那", "ナ"), ("佳", "カ"),
)  # fmt: skip

# Foreign residents (about 3 % of a city's register): the name as on the residence card,
# with its katakana reading. Long vowel marks appear here (ルーカス, レー, ウォン).
FOREIGN_FAMILY: tuple[tuple[str, str, int], ...] = (
    ("NGUYEN", "グエン", 40), ("TRAN", "チャン", 14), ("LE", "レー", 10), ("PHAM", "ファム", 8),
    ("王", "ワン", 14), ("李", "リー", 14), ("張", "チャン", 10), ("劉", "リュウ", 8),
    ("陳", "チェン", 8), ("金", "キム", 16), ("朴", "パク", 8), ("崔", "チェ", 4),
    ("SANTOS", "サントス", 8), ("SILVA", "シルバ", 7), ("OLIVEIRA", "オリベイラ", 4),
    ("REYES", "レイエス", 5), ("CRUZ", "クルーズ", 4), ("GARCIA", "ガルシア", 4),
    ("GURUNG", "グルン", 4), ("SHRESTHA", "シュレスタ", 4), ("SMITH", "スミス", 2),
    ("JONES", "ジョーンズ", 1),
)  # fmt: skip
FOREIGN_GIVEN: tuple[tuple[str, str, int], ...] = (
    ("VAN NAM", "ヴァンナム", 8), ("THI HOA", "ティホア", 8), ("MINH", "ミン", 6),
    ("LAN", "ラン", 5), ("偉", "ウェイ", 6), ("静", "ジン", 5), ("敏", "ミン", 4),
    ("珉俊", "ミンジュン", 4), ("瑞妍", "ソヨン", 4), ("MARIA", "マリア", 6), ("JOSE", "ホセ", 4),
    ("ANA", "アナ", 4), ("LUCAS", "ルーカス", 3), ("JOHN", "ジョン", 2), ("RAJU", "ラージュ", 2),
    ("SITA", "シーター", 2),
)  # fmt: skip


# The country of each foreign family name above (ISO 3166-1), for the resident's nationality.
FOREIGN_NATIONALITY: dict[str, str] = {
    "NGUYEN": "VN", "TRAN": "VN", "LE": "VN", "PHAM": "VN", "王": "CN", "李": "CN", "張": "CN",
    "劉": "CN", "陳": "CN", "金": "KR", "朴": "KR", "崔": "KR", "SANTOS": "BR", "SILVA": "BR",
    "OLIVEIRA": "BR", "REYES": "PH", "CRUZ": "PH", "GARCIA": "PH", "GURUNG": "NP",
    "SHRESTHA": "NP", "SMITH": "US", "JONES": "GB",
}  # fmt: skip


def surnames() -> Iterator[Name]:
    """The top 100 at their shares, then the compound tail falling off as 1/rank."""
    top = [Name(kanji, kana, weight * 1000) for kanji, kana, weight in TOP_SURNAMES]
    yield from top
    seen = {name.kanji for name in top}
    tail_bearers = POPULATION_THOUSANDS * 1000 - sum(name.weight for name in top)
    compounds = []
    for n, (first, first_kana) in enumerate(_FIRST):
        for m, (second, second_kana, voiced) in enumerate(_SECOND):
            kanji = first + second
            if first == second or kanji in seen:
                continue
            seen.add(kanji)
            # Rendaku (連濁) on about half of the compounds whose second element allows it.
            kana = first_kana + (voiced if voiced and (n + m) % 2 else second_kana)
            compounds.append((kanji, kana))
    # Interleave the elements so that the tail's head is not all 上-something.
    compounds.sort(key=lambda pair: (hash_order(pair[0]), pair[0]))
    # The tail continues from the last of the top 100 as (rank / 100) ** -s, with s chosen
    # so that it holds everyone the top 100 do not: a smooth long tail, no step at rank 101.
    first = top[-1].weight
    ranks = range(1, len(compounds) + 1)
    low, high = 0.0, 4.0
    for _ in range(60):
        s = (low + high) / 2
        total = sum(first * ((rank + len(top)) / len(top)) ** -s for rank in ranks)
        low, high = (s, high) if total > tail_bearers else (low, s)
    for rank, (kanji, kana) in zip(ranks, compounds, strict=True):
        yield Name(kanji, kana, max(1, round(first * ((rank + len(top)) / len(top)) ** -s)))


def given_names(*, female: bool) -> Iterator[Name]:
    """Common given names (two thirds of the weight), then compounds (the other third)."""
    common = FEMALE_GIVEN if female else MALE_GIVEN
    firsts, seconds = (_FEMALE_FIRST, _FEMALE_SECOND) if female else (_MALE_FIRST, _MALE_SECOND)
    head = sum(weight for _, _, weight in common)
    yield from (Name(kanji, kana, weight * 100) for kanji, kana, weight in common)
    seen = {kanji for kanji, _, _ in common}
    compounds = [
        (a + b, ak + bk) for a, ak in firsts for b, bk in seconds if a + b not in seen and a != b
    ]
    compounds.sort(key=lambda pair: (hash_order(pair[0]), pair[0]))
    harmonic = sum(1 / rank for rank in range(1, len(compounds) + 1))
    for rank, (kanji, kana) in enumerate(compounds, start=1):
        yield Name(kanji, kana, max(1, round(head * 50 / harmonic / rank)))


def foreign_names(*, given: bool) -> Iterator[Name]:
    rows = FOREIGN_GIVEN if given else FOREIGN_FAMILY
    yield from (Name(kanji, kana, weight) for kanji, kana, weight in rows)


def hash_order(text: str) -> int:
    """A stable shuffle key (Python's hash() is salted per process)."""
    value = 2166136261
    for char in text.encode():
        value = ((value ^ char) * 16777619) % 2**32
    return value
