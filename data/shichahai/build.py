"""Draw the bundled Shichahai geography and write it as GeoJSON (WGS 84).

This script *is* the drawing: every vertex below was typed in by hand from public facts
(see ``data/README.md``), in WGS 84 longitude/latitude. The script turns the drawing into
the layer files next to it:

* ``boundary.geojson`` — 什刹海街道, one polygon;
* ``lakes.geojson`` — 前海, 后海, 西海 and 北海;
* ``streets.geojson`` — main streets, named hutongs, lakeside walks, bridges, park paths and
  a mesh of unnamed lanes that fills the residential blocks;
* ``zones.geojson`` — the grid zones (网格/片区) that tile the boundary;
* ``pois.geojson`` — the enforcement center, police posts and landmarks.

The lakeside walks are drawn as a fixed offset around the water, the bridges as the part of a
crossing line that lies over the water, and the unnamed lanes as evenly spaced east-west lanes
with staggered north-south links inside each residential block. All of it is deterministic:
running the script twice gives byte-identical files.

Run from the repository root::

    python data/shichahai/build.py
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import nearest_points, polygonize, split, substring, unary_union

HERE = Path(__file__).resolve().parent

_TO_M = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
_TO_LL = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)

#: Walking path offset from the shore line (metres).
LAKESIDE_OFFSET_M = 14.0
#: Hand-drawn street ends closer than this to another street are moved onto it (metres).
SNAP_M = 30.0
#: Target spacing of the unnamed east-west lanes and their north-south links (metres).
LANE_SPACING_M = 100.0
LINK_SPACING_M = 300.0
#: West of 德胜门内大街 and south of 地安门西大街 the blocks hold larger compounds (hospitals,
#: schools, offices): the lane mesh there is coarser.
COARSE = 1.5
COARSE_LINKS = 2.0
COARSE_WEST_OF = 116.37700
COARSE_SOUTH_OF = 39.93200
#: A street end joins another junction on the same street within this distance (metres).
JOIN_M = 9.0
#: A lane end this close to a block corner moves onto it; links keep this clear of corners (m).
CORNER_M = 8.0
#: Lanes keep this fraction of their spacing clear of the block's north and south edges.
LANE_MARGIN = 0.35
#: A lakeside name change this close to a bridge end moves onto it (metres).
ANCHOR_M = 25.0
#: Lanes shorter than this are not drawn (metres).
MIN_LANE_M = 35.0

# ---------------------------------------------------------------------------------------------
# The boundary: corners of 什刹海街道, street centre lines all round (lon, lat).
# ---------------------------------------------------------------------------------------------
B = [
    (116.36575, 39.94723),  # 0  NW corner, 新街口北大街 x 德胜门西大街
    (116.36608, 39.94451),  # 1
    (116.36630, 39.94030),  # 2  新街口 (新街口东街)
    (116.36675, 39.93200),  # 3  平安里 (地安门西大街)
    (116.36725, 39.92261),  # 4
    (116.36729, 39.92107),  # 5  西四 (西安门大街)
    (116.37735, 39.92125),  # 6
    (116.37760, 39.92122),  # 7  西黄城根北街
    (116.37804, 39.92110),  # 8
    (116.38460, 39.92086),  # 9  文津街 / 景山前街, by the 北海 bridge
    (116.38520, 39.92150),  # 10
    (116.38582, 39.92170),  # 11
    (116.39024, 39.92181),  # 12 神武门 axis
    (116.39023, 39.92206),  # 13
    (116.39301, 39.92216),  # 14 景山东街 x 景山前街
    (116.39279, 39.92684),  # 15 景山东街 x 景山后街
    (116.39035, 39.92680),  # 16 地安门内大街 x 景山后街
    (116.39013, 39.93199),  # 17 地安门
    (116.38995, 39.93522),  # 18
    (116.38980, 39.93810),  # 19 烟袋斜街
    (116.38976, 39.93870),  # 20 鼓楼西大街 (south of the Drum Tower)
    (116.38887, 39.93919),  # 21
    (116.38790, 39.93924),  # 22 旧鼓楼大街
    (116.38766, 39.94536),  # 23
    (116.38758, 39.94754),  # 24 NE corner, 旧鼓楼大街 x 德胜门东大街
    (116.37914, 39.94750),  # 25
    (116.37780, 39.94749),  # 26 德胜门 (德胜门内大街)
    (116.37305, 39.94745),  # 27
    (116.36982, 39.94743),  # 28
    (116.36666, 39.94729),  # 29
]


def _b(i: int, j: int) -> list[tuple[float, float]]:
    """Boundary vertices i..j inclusive, walking the ring in either direction."""
    n = len(B)
    if i <= j:
        return [B[k % n] for k in range(i, j + 1)]
    return [B[k % n] for k in range(i, j - 1, -1)]


# ---------------------------------------------------------------------------------------------
# Water (lon, lat). 前海 and 后海 meet at 银锭桥; 后海 and 西海 are joined by a channel under
# 德胜门内大街 (德胜桥). 北海 has 琼华岛 (the White Dagoba island) as a hole.
# ---------------------------------------------------------------------------------------------
QIANHAI = [
    (116.38640, 39.93850),  # neck, west bank (银锭桥)
    (116.38627, 39.93800),
    (116.38608, 39.93745),
    (116.38562, 39.93680),
    (116.38527, 39.93600),
    (116.38515, 39.93510),
    (116.38527, 39.93420),
    (116.38569, 39.93350),
    (116.38640, 39.93305),
    (116.38725, 39.93290),
    (116.38796, 39.93310),
    (116.38835, 39.93390),
    (116.38842, 39.93510),
    (116.38823, 39.93630),
    (116.38784, 39.93730),
    (116.38726, 39.93800),
    (116.38678, 39.93860),  # neck, east bank
]
HOUHAI = [
    (116.38678, 39.93860),  # neck, east bank (shared with 前海)
    (116.38660, 39.93905),
    (116.38592, 39.93976),
    (116.38493, 39.94066),
    (116.38353, 39.94161),
    (116.38213, 39.94256),
    (116.38083, 39.94346),
    (116.37962, 39.94411),
    (116.37860, 39.94442),
    (116.37790, 39.94445),  # channel towards 德胜桥
    (116.37650, 39.94448),  # channel end under the bridge (meets 西海)
    (116.37650, 39.94420),
    (116.37790, 39.94418),
    (116.37840, 39.94390),
    (116.37888, 39.94300),
    (116.37967, 39.94189),
    (116.38087, 39.94089),
    (116.38227, 39.93999),
    (116.38367, 39.93929),
    (116.38508, 39.93885),
    (116.38600, 39.93870),
    (116.38640, 39.93850),  # neck, west bank (shared with 前海)
]
XIHAI = [
    (116.37650, 39.94448),  # channel, shared with 后海
    (116.37584, 39.94495),
    (116.37557, 39.94557),
    (116.37487, 39.94601),
    (116.37381, 39.94618),
    (116.37276, 39.94605),
    (116.37201, 39.94557),
    (116.37170, 39.94478),
    (116.37192, 39.94390),
    (116.37267, 39.94319),
    (116.37372, 39.94293),
    (116.37469, 39.94310),
    (116.37540, 39.94363),
    (116.37584, 39.94407),
    (116.37650, 39.94420),  # channel, shared with 后海
]
BEIHAI = [
    (116.38250, 39.92170),  # south-west lobe, by the 北海 bridge on 文津街
    (116.38340, 39.92175),
    (116.38360, 39.92280),
    (116.38400, 39.92345),  # south shore facing 琼华岛 (永安桥)
    (116.38480, 39.92355),
    (116.38560, 39.92400),
    (116.38600, 39.92500),
    (116.38615, 39.92600),
    (116.38590, 39.92720),
    (116.38570, 39.92880),
    (116.38530, 39.93010),
    (116.38440, 39.93070),
    (116.38310, 39.93085),
    (116.38195, 39.93055),
    (116.38140, 39.92960),
    (116.38125, 39.92800),
    (116.38150, 39.92600),
    (116.38170, 39.92420),
    (116.38200, 39.92280),
]
#: 琼华岛 centre and radii (lon, lat degrees): an ellipse about 260 m across.
QIONGHUA = (116.38375, 39.92545, 0.00150, 0.00115)

LAKES = [
    # lake_id, name, name_en
    ("L01", "西海", "Xihai"),
    ("L02", "后海", "Houhai"),
    ("L03", "前海", "Qianhai"),
    ("L04", "北海", "Beihai"),
]

# ---------------------------------------------------------------------------------------------
# Parks and walled precincts: no hutong mesh inside (lon, lat).
# ---------------------------------------------------------------------------------------------
BEIHAI_WEST_WALL = 116.38060
GONGJIAN_LON = 116.38720  # 恭俭胡同, along the east wall of 北海 north of 景山西街

# ---------------------------------------------------------------------------------------------
# Streets drawn by hand (lon, lat). Each: name, name_en, highway, kind, front, coordinates.
# Ends near another street are snapped onto it; lines listed with ``bridge`` keep the part
# over the water as that bridge.
# ---------------------------------------------------------------------------------------------
GULOU_WEST = [
    (116.38790, 39.93924),
    (116.38652, 39.94071),
    (116.38423, 39.94251),
    (116.38123, 39.94441),
    (116.37736, 39.94600),
]
DENEI = [
    (116.37780, 39.94749),
    (116.37736, 39.94600),
    (116.37720, 39.94440),
    (116.37705, 39.94050),
    (116.37700, 39.93208),
]
XHCG = [(116.37760, 39.92122), (116.37735, 39.92660), (116.37700, 39.93208)]
DIANMEN_W = [
    (116.36675, 39.93200),
    (116.37700, 39.93208),
    (116.38500, 39.93205),
    (116.39013, 39.93199),
]
LIUYIN = [
    (116.37865, 39.93208),
    (116.37860, 39.93410),
    (116.37875, 39.93740),
    (116.37880, 39.94320),
]
XINJIEKOU_E = [(116.36630, 39.94030), (116.37200, 39.94040), (116.37705, 39.94050)]

MAIN_FRONT = "main_streets"
GULOU_FRONT = "gulou_west"

BOUNDARY_STREETS = [
    ("新街口北大街", "Xinjiekou North Street", "primary", "main_street", "", _b(0, 2)),
    ("新街口南大街", "Xinjiekou South Street", "primary", "main_street", "", _b(2, 3)),
    ("西四北大街", "Xisi North Street", "primary", "main_street", "", _b(3, 5)),
    ("西安门大街", "Xi'anmen Street", "secondary", "main_street", "", _b(5, 7)),
    ("文津街", "Wenjin Street", "secondary", "main_street", "", _b(7, 9)),
    ("景山前街", "Jingshan Front Street", "secondary", "main_street", MAIN_FRONT, _b(9, 14)),
    ("景山东街", "Jingshan East Street", "tertiary", "main_street", "", _b(14, 15)),
    ("地安门内大街", "Di'anmen Inner Street", "primary", "main_street", "", _b(16, 17)),
    ("地安门外大街", "Di'anmen Outer Street", "primary", "main_street", "", _b(17, 20)),
    ("旧鼓楼大街", "Jiugulou Street", "secondary", "main_street", "", _b(22, 24)),
    ("德胜门东大街", "Deshengmen East Street", "primary", "main_street", "", _b(24, 26)),
    ("德胜门西大街", "Deshengmen West Street", "primary", "main_street", "", _b(26, 30)),
]

DRAWN_STREETS = [
    # main streets inside
    (
        "鼓楼西大街",
        "Gulou West Street",
        "secondary",
        "main_street",
        GULOU_FRONT,
        [*_b(20, 21), *GULOU_WEST],
    ),
    (
        "景山后街",
        "Jingshan Back Street",
        "tertiary",
        "main_street",
        MAIN_FRONT,
        [(116.38740, 39.92700), (116.38840, 39.92699), B[16], B[15]],
    ),
    (
        "景山西街",
        "Jingshan West Street",
        "tertiary",
        "main_street",
        MAIN_FRONT,
        [(116.38740, 39.921740), (116.38740, 39.92700)],
    ),
    (
        "西黄城根北街",
        "Xihuangchenggen North Street",
        "secondary",
        "main_street",
        MAIN_FRONT,
        XHCG,
    ),
    (
        "地安门西大街",
        "Di'anmen West Street",
        "primary",
        "main_street",
        "",
        DIANMEN_W,
    ),
    (
        "德胜门内大街",
        "Deshengmennei Street",
        "secondary",
        "main_street",
        "",
        DENEI,
    ),
    (
        "护国寺街",
        "Huguosi Street",
        "residential",
        "street",
        "",
        [
            (116.36655, 39.93370),
            (116.37010, 39.93370),
            (116.37400, 39.93385),
            (116.37703, 39.93390),
        ],
    ),
    (
        "新街口东街",
        "Xinjiekou East Street",
        "tertiary",
        "street",
        "",
        XINJIEKOU_E,
    ),
    (
        "西什库大街",
        "Xishiku Street",
        "tertiary",
        "street",
        "",
        [(116.37920, 39.92106), (116.37915, 39.92650), (116.37905, 39.93206)],
    ),
    (
        "恭俭胡同",
        "Gongjian Hutong",
        "residential",
        "hutong",
        "",
        [(116.38740, 39.92700), (GONGJIAN_LON, 39.93205)],
    ),
    (
        "陟山门街",
        "Zhishanmen Street",
        "residential",
        "street",
        "",
        [(116.38740, 39.92550), (116.38600, 39.92550)],
    ),
    # around 恭王府 and between the lakes
    ("柳荫街", "Liuyin Street", "residential", "hutong", "", LIUYIN),
    (
        "前海西街",
        "Qianhai West Street",
        "residential",
        "street",
        "",
        [(116.37860, 39.93410), (116.38120, 39.93412), (116.38500, 39.93420)],
    ),
    (
        "大翔凤胡同",
        "Daxiangfeng Hutong",
        "residential",
        "hutong",
        "",
        [
            (116.37875, 39.93740),
            (116.38120, 39.93740),
            (116.38140, 39.93900),
            (116.38160, 39.94030),
        ],
    ),
    (
        "小翔凤胡同",
        "Xiaoxiangfeng Hutong",
        "residential",
        "hutong",
        "",
        [(116.38120, 39.93740), (116.38260, 39.93742), (116.38280, 39.93950)],
    ),
    (
        "大金丝套",
        "Dajinsitao Hutong",
        "residential",
        "hutong",
        "",
        [(116.38540, 39.93700), (116.38460, 39.93800), (116.38440, 39.93880)],
    ),
    (
        "小金丝套",
        "Xiaojinsitao Hutong",
        "residential",
        "hutong",
        "",
        [(116.38490, 39.93620), (116.38400, 39.93800), (116.38360, 39.93910)],
    ),
    (
        "",
        "unnamed lane",
        "residential",
        "hutong",
        "",
        [(116.38120, 39.93412), (116.38120, 39.93740)],
    ),  # 恭王府 east lane
    # north and east of the lakes
    (
        "烟袋斜街",
        "Yandai Xiejie",
        "pedestrian",
        "street",
        "",
        [
            B[19],
            (116.38935, 39.93792),
            (116.38890, 39.93780),
            (116.38840, 39.93776),
            (116.38790, 39.93790),
            (116.38765, 39.93845),
            (116.38715, 39.93868),
        ],
    ),
    (
        "鸦儿胡同",
        "Ya'er Hutong",
        "residential",
        "hutong",
        "",
        [
            (116.38700, 39.93866),
            (116.38705, 39.93910),
            (116.38662, 39.93986),
            (116.38543, 39.94086),
            (116.38393, 39.94186),
            (116.38243, 39.94286),
            (116.38103, 39.94381),
            (116.38030, 39.94395),
        ],
    ),
    (
        "白米斜街",
        "Baimi Xiejie",
        "residential",
        "hutong",
        "",
        [
            (116.39005, 39.93400),
            (116.38940, 39.93360),
            (116.38870, 39.93310),
            (116.38825, 39.93290),
        ],
    ),
    # unnamed lanes that also carry zone edges
    (
        "",
        "unnamed lane",
        "residential",
        "hutong",
        "",
        [B[4][:1] + (39.92650,), (116.37735, 39.92660)],
    ),
    (
        "",
        "unnamed lane",
        "residential",
        "hutong",
        "",
        [(116.37000, 39.94040), (116.37000, 39.94744)],
    ),
    (
        "",
        "unnamed lane",
        "residential",
        "hutong",
        "",
        [(BEIHAI_WEST_WALL, 39.92108), (BEIHAI_WEST_WALL, 39.93206)],
    ),
]

#: Lines crossing water: name, name_en, highway, kind, coordinates (extended past both banks).
BRIDGES = [
    ("银锭桥", "Yinding Bridge", "pedestrian", [(116.38580, 39.93840), (116.38740, 39.93868)]),
    ("永安桥", "Yong'an Bridge", "footway", [(116.38440, 39.92545), (116.38440, 39.92250)]),
    ("陟山桥", "Zhishan Bridge", "footway", [(116.38375, 39.92550), (116.38700, 39.92550)]),
]
#: The 德胜门内大街 crossing of the 后海-西海 channel.
DESHENG_BRIDGE = ("德胜桥", "Desheng Bridge", "secondary")

# ---------------------------------------------------------------------------------------------
# Points of interest (lon, lat): poi_id, name, name_en, kind, assumed.
# ---------------------------------------------------------------------------------------------
POIS = [
    (
        "P01",
        "什刹海综合执法中心",
        "Shichahai Comprehensive Enforcement Center",
        "enforcement_center",
        True,
        (116.38300, 39.93300),
    ),
    ("P02", "什刹海派出所", "Shichahai Police Station", "police_post", True, (116.37780, 39.93290)),
    (
        "P03",
        "银锭桥警务站",
        "Yinding Bridge Police Post",
        "police_post",
        True,
        (116.38700, 39.93900),
    ),
    (
        "P04",
        "荷花市场警务站",
        "Lotus Market Police Post",
        "police_post",
        True,
        (116.38920, 39.93330),
    ),
    ("P05", "西海警务站", "Xihai Police Post", "police_post", True, (116.37640, 39.94240)),
    ("P06", "鼓楼", "Drum Tower", "landmark", False, (116.389711, 39.939318)),
    ("P07", "钟楼", "Bell Tower", "landmark", False, (116.389619, 39.941050)),
    ("P08", "恭王府", "Prince Gong Mansion", "landmark", False, (116.380005, 39.935507)),
    ("P09", "银锭桥", "Yinding Bridge", "bridge", False, (116.38655, 39.93855)),
    ("P10", "酒吧街", "Lakeside bar street", "bar_street", False, (116.38560, 39.93800)),
    (
        "P11",
        "宋庆龄故居",
        "Former Residence of Soong Ching-ling",
        "landmark",
        False,
        (116.37990, 39.94460),
    ),
    ("P12", "烟袋斜街口", "Yandai Xiejie entrance", "landmark", False, (116.38975, 39.93808)),
    ("P13", "荷花市场", "Lotus Market", "landmark", False, (116.38760, 39.93245)),
    ("P14", "北海公园北门", "Beihai Park North Gate", "landmark", False, (116.38500, 39.93195)),
    ("P15", "景山公园", "Jingshan Park", "landmark", False, (116.390080, 39.924351)),
    ("P16", "北海", "Beihai Park", "landmark", False, (116.38375, 39.92545)),
]

# ---------------------------------------------------------------------------------------------
# Zones: cut lines (lon, lat, drawn past the boundary) split the boundary into faces; a seed
# point names each face. Serial order is the list order: north to south, west to east.
# ---------------------------------------------------------------------------------------------
ZONE_CUTS = [
    # 德胜门内大街 + 西黄城根北街
    [(116.37780, 39.94800), *DENEI, *XHCG[::-1][1:], (116.37760, 39.92000)],
    # 新街口东街 and the lane north of it
    [(116.36500, 39.94030), *XINJIEKOU_E, (116.37800, 39.94052)],
    [(116.37000, 39.94000), (116.37000, 39.94800)],
    # 地安门西大街
    [(116.36500, 39.93200), *DIANMEN_W, (116.39200, 39.93195)],
    # the lane between 平安里 and 西安门
    [(116.36500, 39.92650), (116.37800, 39.92660)],
    # 鼓楼西大街 (west part)
    [(116.37600, 39.94700), *GULOU_WEST[::-1], (116.38800, 39.93915)],
    # 后海 axis, 银锭桥, 前海 axis
    [
        (116.37600, 39.94434),
        (116.37780, 39.94432),
        (116.37900, 39.94360),
        (116.38100, 39.94175),
        (116.38400, 39.94000),
        (116.38580, 39.93915),
        (116.38659, 39.93855),
        (116.38640, 39.93700),
        (116.38620, 39.93500),
        (116.38600, 39.93100),
    ],
    # 银锭桥 to the 旧鼓楼大街 corner
    [(116.38659, 39.93855), (116.38800, 39.93935)],
    # 柳荫街 south to 地安门西大街 and north to 后海
    [(116.37865, 39.93100), *LIUYIN, (116.37880, 39.94500)],
    # 大翔凤胡同 line east to the 前海 axis
    [(116.37875, 39.93740), (116.38120, 39.93740), (116.38700, 39.93745)],
    # 北海 west wall
    [(BEIHAI_WEST_WALL, 39.92000), (BEIHAI_WEST_WALL, 39.93300)],
    # 恭俭胡同 + 景山西街
    [
        (GONGJIAN_LON, 39.93300),
        (GONGJIAN_LON, 39.93205),
        (116.38740, 39.92700),
        (116.38740, 39.92000),
    ],
]

# zone: (community no., name, name_en, community name, seed lon/lat)
ZONES = [
    (1, "新街口北片区", "Xinjiekou North", "西海社区", (116.36800, 39.94400)),
    (1, "西海片区", "Xihai", "西海社区", (116.37400, 39.94700)),
    (2, "鼓楼西片区", "Gulou West", "鼓楼西社区", (116.38400, 39.94500)),
    (2, "后海北片区", "Houhai North", "鼓楼西社区", (116.38300, 39.94250)),
    (3, "护国寺片区", "Huguosi", "护国寺社区", (116.37200, 39.93600)),
    (4, "柳荫街片区", "Liuyin Street", "柳荫街社区", (116.37800, 39.93800)),
    (4, "金丝套片区", "Jinsitao", "柳荫街社区", (116.38300, 39.93850)),
    (5, "恭王府片区", "Prince Gong Mansion & Qianhai West", "前海社区", (116.38100, 39.93500)),
    (5, "烟袋斜街片区", "Yandai Xiejie & Qianhai East", "前海社区", (116.38850, 39.93600)),
    (6, "平安里片区", "Ping'anli", "西四北社区", (116.37200, 39.92900)),
    (7, "西什库片区", "Xishiku", "西什库社区", (116.37930, 39.92700)),
    (7, "北海片区", "Beihai", "西什库社区", (116.38400, 39.92700)),
    (8, "景山片区", "Jingshan", "景山社区", (116.38950, 39.92900)),
    (6, "西安门片区", "Xi'anmen", "西四北社区", (116.37200, 39.92350)),
]


# ---------------------------------------------------------------------------------------------
# Geometry helpers
# ---------------------------------------------------------------------------------------------
def to_m(geom):
    """WGS 84 lon/lat geometry to EPSG:32650 metres."""
    return shapely.transform(geom, lambda x, y: _TO_M.transform(x, y), interleaved=False)


def to_ll(geom):
    """EPSG:32650 metres to WGS 84 lon/lat."""
    return shapely.transform(geom, lambda x, y: _TO_LL.transform(x, y), interleaved=False)


def _lines(geom) -> list[LineString]:
    if geom.is_empty:
        return []
    if geom.geom_type in ("LineString", "LinearRing"):
        return [LineString(geom.coords)]
    out: list[LineString] = []
    for part in getattr(geom, "geoms", []):
        out.extend(_lines(part))
    return out


def _over_water(line: LineString, walk: Polygon) -> LineString:
    """The span of a crossing line between the lakeside walks on either bank."""
    pieces = _lines(split(line, walk.boundary))
    inside = [p for p in pieces if walk.buffer(0.01).contains(p)]
    return max(inside, key=lambda p: p.length)


def _snap_ends(line: LineString, others: list[LineString]) -> LineString:
    """Trim overshoots and move dangling ends onto the nearest other line within SNAP_M."""
    if not others:
        return line
    net = unary_union(others)
    coords = list(line.coords)
    # trim overshoots: cut at a crossing within SNAP_M of either end
    hits = line.intersection(net)
    pts = [g for g in getattr(hits, "geoms", [hits]) if not g.is_empty and g.geom_type == "Point"]
    if pts:
        ds = sorted(line.project(p) for p in pts)
        start = next((d for d in ds if 0.5 < d <= SNAP_M), None)
        end = next((d for d in reversed(ds) if 0.5 < line.length - d <= SNAP_M), None)
        a = start if start is not None else 0.0
        b = end if end is not None else line.length
        if b > a:
            line = substring(line, a, b)
            coords = list(line.coords)
    ends = [Point(g.coords[k]) for g in others for k in (0, -1)]
    for idx in (0, -1):
        p = Point(coords[idx])
        if net.distance(p) <= SNAP_M:
            q = nearest_points(net, p)[0]
            # prefer an existing junction (another street's end) close by
            near = min(ends, key=lambda e: (e.distance(q), e.x, e.y))
            if near.distance(q) <= JOIN_M:
                q = near
            coords[idx] = (q.x, q.y)
    return LineString(coords)


# ---------------------------------------------------------------------------------------------
# Building the layers (metric)
# ---------------------------------------------------------------------------------------------
def build_lakes() -> dict[str, Polygon]:
    cx, cy, rx, ry = QIONGHUA
    island = [
        (cx + rx * math.cos(t), cy + ry * math.sin(t))
        for t in (2 * math.pi * k / 24 for k in range(24))
    ]
    shapes = {
        "L01": Polygon(XIHAI),
        "L02": Polygon(HOUHAI),
        "L03": Polygon(QIANHAI),
        "L04": Polygon(BEIHAI, [island]),
    }
    return {k: to_m(v) for k, v in shapes.items()}


def _lakeside_name(mid: Point, lakes: dict[str, Polygon]) -> tuple[str, str]:
    """Name of the lakeside walk at a point: the nearest lake and the side of it."""
    lake = min(("L01", "L02", "L03"), key=lambda k: (lakes[k].distance(mid), k))
    lon, lat = _TO_LL.transform(mid.x, mid.y)
    if lake == "L01":
        cx, cy = 116.37390, 39.94460
        ang = math.degrees(math.atan2((lat - cy) * 111.0, (lon - cx) * 85.3))
        if lon > 116.37600:
            return "西海东沿", "Xihai East Bank"
        if 30 <= ang < 150:
            return "西海北沿", "Xihai North Bank"
        if -150 <= ang < -30:
            return "西海南沿", "Xihai South Bank"
        return "西海西沿", "Xihai West Bank"
    if lake == "L02" and lon < 116.37850:  # the channel towards 西海
        return (
            ("后海北沿", "Houhai North Bank")
            if lat > 39.94434
            else ("后海南沿", "Houhai South Bank")
        )
    if lake == "L02":
        ax, ay, bx, by = 116.38659, 39.93855, 116.37780, 39.94432
        cross = ((bx - ax) * 85.3) * ((lat - ay) * 111.0) - ((by - ay) * 111.0) * (
            (lon - ax) * 85.3
        )
        return ("后海南沿", "Houhai South Bank") if cross > 0 else ("后海北沿", "Houhai North Bank")
    if lat < 39.93330 and lon > 116.38500:
        return "荷花市场", "Lotus Market lakeside"
    if lon > 116.38640:
        return "前海东沿", "Qianhai East Bank"
    if lat >= 39.93560:
        return "前海北沿", "Qianhai North Bank"
    return "前海西沿", "Qianhai West Bank"


def _ring_pieces(
    ring: LineString, namer, anchors: list[Point]
) -> list[tuple[str, str, LineString]]:
    """Split a closed ring into runs that share a name.

    ``anchors`` (bridge ends on the ring) become ring vertices, and a change of name within
    ANCHOR_M of an anchor moves onto it, so runs meet where the bridges land."""
    coords = list(ring.coords)[:-1]
    for a in anchors:
        if ring.distance(a) > 0.1 or min(Point(c).distance(a) for c in coords) < 1e-6:
            continue
        d = ring.project(a)
        k = next(
            i
            for i in range(len(coords))
            if ring.project(Point(coords[(i + 1) % len(coords)])) >= d or i == len(coords) - 1
        )
        coords.insert(k + 1, (a.x, a.y))
    n = len(coords)
    edges = [(coords[i], coords[(i + 1) % n]) for i in range(n)]
    names = [namer(Point((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)) for a, b in edges]
    anchor_idx = [
        i for i, c in enumerate(coords) if any(Point(c).distance(a) < 1e-6 for a in anchors)
    ]
    for i in [i for i in range(n) if names[i] != names[i - 1]]:  # name changes at vertex i
        best = min(
            anchor_idx, key=lambda k: Point(coords[k]).distance(Point(coords[i])), default=None
        )
        if best is None or best == i or Point(coords[best]).distance(Point(coords[i])) > ANCHOR_M:
            continue
        # walk from i to best relabelling the edges in between
        fwd = (best - i) % n
        if fwd <= n // 2:
            for k in range(i, i + fwd):
                names[k % n] = names[(i - 1) % n]
        else:
            for k in range(best, best + (n - fwd)):
                names[k % n] = names[i % n]
    start = next((i for i in range(n) if names[i] != names[i - 1]), 0)
    edges = edges[start:] + edges[:start]
    names = names[start:] + names[:start]
    runs: list[tuple[tuple[str, str], list]] = []
    for nm, (a, b) in zip(names, edges, strict=True):
        if runs and runs[-1][0] == nm:
            runs[-1][1].append(b)
        else:
            runs.append((nm, [a, b]))
    return [(nm[0], nm[1], LineString(pts)) for nm, pts in runs]


def build_streets(lakes: dict[str, Polygon]) -> list[dict]:
    """All street lines in metres, with their attributes (no ids yet)."""
    out: list[dict] = []

    def add(name, name_en, highway, kind, front, geom) -> None:
        for line in _lines(geom):
            if line.length >= 1.0:
                out.append(
                    {
                        "name": name,
                        "name_en": name_en,
                        "highway": highway,
                        "kind": kind,
                        "front": front,
                        "geometry": line,
                    }
                )

    # boundary streets: exactly on the boundary ring
    for name, name_en, hw, kind, front, coords in BOUNDARY_STREETS:
        add(name, name_en, hw, kind, front, to_m(LineString(coords)))

    # water and its walks
    grand = unary_union([lakes["L01"], lakes["L02"], lakes["L03"]])
    grand_walk = grand.buffer(LAKESIDE_OFFSET_M, quad_segs=4).simplify(1.0)
    beihai_walk = lakes["L04"].buffer(LAKESIDE_OFFSET_M, quad_segs=4).simplify(1.0)
    walks = [grand_walk, beihai_walk]
    denei = next(to_m(LineString(c)) for n, *_, c in DRAWN_STREETS if n == "德胜门内大街")
    bridges = [(*DESHENG_BRIDGE, _over_water(denei, grand_walk))]
    for name, name_en, hw, coords in BRIDGES:
        line = to_m(LineString(coords))
        bridges.append(
            (name, name_en, hw, _over_water(line, next(w for w in walks if w.intersects(line))))
        )
    anchors = [Point(b[3].coords[k]) for b in bridges for k in (0, -1)]
    for name, name_en, line in _ring_pieces(
        grand_walk.exterior, lambda m: _lakeside_name(m, lakes), anchors
    ):
        add(name, name_en, "pedestrian", "lakeside", "", line)
    add("", "Beihai lakeside path", "footway", "path", "", beihai_walk.exterior)
    for hole in beihai_walk.interiors:
        add("", "Qionghua Island path", "footway", "path", "", LineString(hole.coords))

    # drawn streets: snapped onto what is already there, split where they cross water
    placed = [r["geometry"] for r in out]
    for name, name_en, hw, kind, front, coords in DRAWN_STREETS:
        line = to_m(LineString(coords))
        line = _snap_ends(line, placed)
        if name == "德胜门内大街":
            add(name, name_en, hw, kind, front, line.difference(grand_walk))
        else:
            add(name, name_en, hw, kind, front, line)
        placed = [r["geometry"] for r in out]
    for name, name_en, hw, line in bridges:
        add(name, name_en, hw, "bridge", "", line)

    # park paths, snapped onto the streets and walks they join
    jingshan = to_m(
        Polygon([(116.38740, 39.92174), B[12], B[13], B[14], B[15], B[16], (116.38740, 39.92700)])
    )
    add(
        "",
        "Jingshan Park path",
        "footway",
        "path",
        "",
        jingshan.buffer(-45.0, join_style="mitre").exterior,
    )
    paths = [
        ("Jingshan Park central path", [B[16], ((B[12][0] + B[13][0]) / 2, 39.92195)]),
        ("Jingshan Park path", [(116.38740, 39.92450), (116.39290, 39.92450)]),
        ("Beihai Park north gate path", [(116.38500, 39.93205), (116.38500, 39.93030)]),
        ("Beihai Park south gate path", [B[10], (116.38450, 39.92350)]),
        ("Beihai Park west gate path", [(BEIHAI_WEST_WALL, 39.92700), (116.38140, 39.92700)]),
    ]
    for name_en, coords in paths:
        placed = [r["geometry"] for r in out]
        add("", name_en, "footway", "path", "", _snap_ends(to_m(LineString(coords)), placed))

    # the hutong mesh inside residential blocks
    parks = [
        to_m(
            Polygon(
                [
                    (BEIHAI_WEST_WALL, 39.92000),
                    (116.38740, 39.92000),
                    (116.38740, 39.92700),
                    (GONGJIAN_LON, 39.93205),
                    (BEIHAI_WEST_WALL, 39.93205),
                ]
            )
        ),
        jingshan,
        to_m(
            Polygon(
                [
                    (116.37860, 39.93410),
                    (116.38120, 39.93412),
                    (116.38120, 39.93740),
                    (116.37875, 39.93740),
                ]
            )
        ),  # 恭王府
    ]
    out.extend(_mesh(out, parks, [grand, lakes["L04"]]))
    return _insert_junctions(_merge_close_ends(_connected(out)))


def _merge_close_ends(streets: list[dict]) -> list[dict]:
    """Tidy T-junctions: a street end joins a junction on the same street within JOIN_M.

    Lanes drawn on both sides of a street then meet it at one junction (a crossing) instead of
    two a few metres apart, and no end is left a metre or two from a street it does not meet
    (a loader snapping ends within 2 m would otherwise make a sliver junction there)."""
    geoms = [s["geometry"] for s in streets]
    tree = shapely.STRtree(geoms)
    ends: list[list[tuple[float, float]]] = [[g.coords[0], g.coords[-1]] for g in geoms]
    for i in range(len(geoms)):
        if streets[i]["kind"] in ("main_street", "lakeside", "bridge") or streets[i].get("mesh"):
            continue
        for e in (0, 1):
            p = Point(ends[i][e])
            near = [
                int(j) for j in tree.query(p, predicate="dwithin", distance=JOIN_M) if int(j) != i
            ]
            support = [j for j in near if geoms[j].distance(p) < 0.1]
            if not support or any(Point(q).distance(p) < 0.01 for j in support for q in ends[j]):
                continue
            cands = []
            for j in near:
                for q in ends[j]:
                    qp = Point(q)
                    if 0.01 < qp.distance(p) <= JOIN_M and any(
                        geoms[k].distance(qp) < 0.1 for k in support
                    ):
                        cands.append((qp.distance(p), q))
            if cands:
                ends[i][e] = min(cands)[1]
    out = []
    for i, s in enumerate(streets):
        coords = list(geoms[i].coords)
        coords[0], coords[-1] = ends[i][0], ends[i][-1]
        out.append({**s, "geometry": LineString(coords)})
    # every drawn street meets the network at both ends
    geoms = [s["geometry"] for s in out]
    tree = shapely.STRtree(geoms)
    for i, g in enumerate(geoms):
        if out[i].get("mesh") or out[i]["kind"] in ("lakeside", "path"):
            continue
        for end in (g.coords[0], g.coords[-1]):
            p = Point(end)
            if not any(int(j) != i for j in tree.query(p, predicate="dwithin", distance=0.1)):
                raise SystemExit(f"{out[i]['name'] or 'lane'} ends in the open at {to_ll(p)}")
    # nothing may end within 2.5 m of a street it does not meet
    geoms = [s["geometry"] for s in out]
    tree = shapely.STRtree(geoms)
    for i, g in enumerate(geoms):
        for end in (g.coords[0], g.coords[-1]):
            p = Point(end)
            for j in tree.query(p, predicate="dwithin", distance=2.5):
                d = geoms[int(j)].distance(p)
                if int(j) != i and 0.1 <= d:
                    raise SystemExit(
                        f"{out[i]['name'] or 'lane'} ends {d:.2f} m off {out[int(j)]['name'] or 'a lane'} at {to_ll(p)} {out[i]['geometry']} {out[int(j)]['geometry']}"
                    )
    return out


def _insert_junctions(streets: list[dict]) -> list[dict]:
    """Make every T-junction a shared vertex: a street end lying on another street is inserted
    into that street's vertex list, so both round to the same coordinate in the output."""
    geoms = [s["geometry"] for s in streets]
    tree = shapely.STRtree(geoms)
    extra: dict[int, list[tuple[float, float]]] = {}
    for i, g in enumerate(geoms):
        for end in (g.coords[0], g.coords[-1]):
            p = Point(end)
            for j in tree.query(p, predicate="dwithin", distance=0.1):
                j = int(j)
                if j == i:
                    continue
                verts = shapely.points(list(geoms[j].coords))
                if shapely.distance(verts, p).min() > 1e-6:
                    extra.setdefault(j, []).append(end)
    out = []
    for j, s in enumerate(streets):
        if j not in extra:
            out.append(s)
            continue
        line = s["geometry"]
        pts = [(line.project(Point(c)), c) for c in line.coords]
        pts += [(line.project(Point(c)), c) for c in extra[j]]
        pts.sort(key=lambda t: t[0])
        out.append({**s, "geometry": LineString([c for _, c in pts])})
    return out


def _connected(streets: list[dict]) -> list[dict]:
    """Drop unnamed lanes that do not reach the main network (touching within 5 cm)."""
    geoms = [s["geometry"] for s in streets]
    tree = shapely.STRtree(geoms)
    parent = list(range(len(geoms)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, g in enumerate(geoms):
        for j in tree.query(g, predicate="dwithin", distance=0.05):
            a, b = find(i), find(int(j))
            if a != b:
                parent[max(a, b)] = min(a, b)
    main = find(0)
    keep = [s for i, s in enumerate(streets) if find(i) == main]
    lost = [s["name"] or "unnamed lane" for i, s in enumerate(streets) if find(i) != main]
    if any(n != "unnamed lane" for n in lost):
        raise SystemExit(f"named streets cut off from the network: {sorted(set(lost))}")
    return keep


def _mesh(streets: list[dict], parks: list[Polygon], water: list[Polygon]) -> list[dict]:
    """Unnamed lanes filling each residential block: E-W lanes and staggered N-S links.

    East-west lanes lie on a shared grid (so lanes either side of a street line up); a lane
    end near a corner of its block moves onto the corner. North-south links run in columns
    across the block, split at the lanes, every other piece kept (a brick pattern)."""
    net = unary_union([s["geometry"] for s in streets])
    faces = sorted(polygonize(net), key=lambda f: (round(f.centroid.y, 1), round(f.centroid.x, 1)))
    junctions = [Point(s["geometry"].coords[k]) for s in streets for k in (0, -1)]
    jtree = shapely.STRtree(junctions)
    lanes: list[LineString] = []
    for fi, face in enumerate(faces):
        rp = face.representative_point()
        if any(p.contains(rp) for p in parks) or any(
            w.intersection(face).area > 1.0 for w in water
        ):
            continue
        minx, miny, maxx, maxy = face.bounds
        lon, lat = _TO_LL.transform(rp.x, rp.y)
        coarse = lon < COARSE_WEST_OF or lat < COARSE_SOUTH_OF
        lane_m = LANE_SPACING_M * (COARSE if coarse else 1.0)
        link_m = LINK_SPACING_M * (COARSE_LINKS if coarse else 1.0) / 2.0
        rim = face.boundary
        corners = [junctions[int(k)] for k in jtree.query(rim, predicate="dwithin", distance=0.1)]
        corners += [
            Point(c)
            for c in face.exterior.coords
            if not any(Point(c).distance(q) < 3.0 for q in corners)
        ]
        margin = LANE_MARGIN * lane_m
        k0 = math.ceil((miny + margin) / lane_m)
        ys = [k * lane_m for k in range(k0, math.floor((maxy - margin) / lane_m) + 1)]
        face_lanes: list[LineString] = []
        for y in ys:
            cut = LineString([(minx - 1, y), (maxx + 1, y)]).intersection(face)
            for ln in _lines(cut):
                if ln.length < MIN_LANE_M:
                    continue
                coords = list(ln.coords)
                for idx in (0, -1):
                    p = Point(coords[idx])
                    c = min(corners, key=lambda q: q.distance(p))
                    if c.distance(p) <= CORNER_M:
                        coords[idx] = (c.x, c.y)
                face_lanes.append(LineString(coords))
        lanes.extend(face_lanes)
        grid = unary_union(face_lanes) if face_lanes else None
        width = maxx - minx
        m = max(1, round(width / link_m))
        for j in range(m):
            x = minx + width * (j + 0.5) / m
            col = LineString([(x, miny - 1), (x, maxy + 1)]).intersection(face)
            for piece in _lines(col):
                parts = _lines(split(piece, grid)) if grid is not None else [piece]
                parts.sort(key=lambda g: g.centroid.y)
                for k, sp in enumerate(parts):
                    if (k + j + fi) % 2 or sp.length < 25.0:
                        continue
                    ends = [Point(sp.coords[0]), Point(sp.coords[-1])]
                    if any(0.01 < min(c.distance(e) for c in corners) <= CORNER_M for e in ends):
                        continue
                    if any(0.01 < rim.distance(e) <= CORNER_M for e in ends):
                        continue
                    lanes.append(sp)
    return [
        {
            "name": "",
            "name_en": "unnamed lane",
            "highway": "residential",
            "kind": "hutong",
            "front": "",
            "mesh": True,
            "geometry": ln,
        }
        for ln in lanes
    ]


def build_zones(boundary_ll: Polygon) -> list[dict]:
    lines = [LineString(c) for c in ZONE_CUTS] + [boundary_ll.exterior]
    faces = [
        f for f in polygonize(unary_union(lines)) if boundary_ll.contains(f.representative_point())
    ]
    zones: dict[int, list[Polygon]] = {}
    orphans = []
    for face in faces:
        hits = [i for i, z in enumerate(ZONES) if face.contains(Point(z[4]))]
        if len(hits) > 1:
            raise SystemExit(f"zone face at {face.representative_point()} has seeds {hits}")
        if hits:
            zones.setdefault(hits[0], []).append(face)
        else:
            orphans.append(face)
    for face in orphans:  # slivers where cut lines meet: join the neighbour sharing most edge
        if face.area > 2e-7:
            raise SystemExit(f"zone face at {face.representative_point()} has no seed")
        best = max(
            zones,
            key=lambda i: (
                sum(face.boundary.intersection(f.boundary).length for f in zones[i]),
                -i,
            ),
        )
        zones[best].append(face)
    if len(zones) != len(ZONES):
        missing = [ZONES[i][1] for i in range(len(ZONES)) if i not in zones]
        raise SystemExit(f"zones without a face: {missing}")
    order = sorted(zones)
    rows = []
    for serial, i in enumerate(order, start=1):
        comm, name, name_en, community, _seed = ZONES[i]
        geom = unary_union(zones[i])
        rows.append(
            {
                "zone_id": f"110102012{comm:03d}{serial:03d}",
                "name": name,
                "name_en": name_en,
                "community": community,
                "geometry": geom,
            }
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------
def _round(obj):
    if isinstance(obj, float):
        return round(obj, 6)
    if isinstance(obj, (list, tuple)):
        return [_round(x) for x in obj]
    return obj


def _write(name: str, features: list[tuple[dict, object]]) -> None:
    feats = []
    for props, geom in features:
        g = shapely.geometry.mapping(geom)
        feats.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": g["type"], "coordinates": _round(g["coordinates"])},
            }
        )
    doc = {
        "type": "FeatureCollection",
        "name": name,
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": feats,
    }
    text = "{\n" + ",\n".join(
        f'"{k}": ' + json.dumps(v, ensure_ascii=False, sort_keys=True)
        for k, v in doc.items()
        if k != "features"
    )
    text += (
        ',\n"features": [\n'
        + ",\n".join(json.dumps(f, ensure_ascii=False, sort_keys=True) for f in feats)
        + "\n]\n}\n"
    )
    (HERE / f"{name}.geojson").write_text(text, encoding="utf-8")


def main() -> None:
    boundary_ll = Polygon(B)
    _write(
        "boundary",
        [
            (
                {"name": "什刹海街道", "name_en": "Shichahai Subdistrict", "adcode": "110102012"},
                boundary_ll,
            )
        ],
    )
    lakes = build_lakes()
    _write(
        "lakes",
        [({"lake_id": lid, "name": nm, "name_en": en}, to_ll(lakes[lid])) for lid, nm, en in LAKES],
    )
    streets = build_streets(lakes)
    feats = []
    for i, s in enumerate(streets, start=1):
        props = {k: s[k] for k in ("name", "name_en", "highway", "kind", "front")}
        props["street_id"] = f"S{i:03d}"
        feats.append((props, to_ll(s["geometry"])))
    _write("streets", feats)
    _write(
        "zones",
        [
            ({k: z[k] for k in ("zone_id", "name", "name_en", "community")}, z["geometry"])
            for z in build_zones(boundary_ll)
        ],
    )
    _write(
        "pois",
        [
            (
                {"poi_id": pid, "name": nm, "name_en": en, "kind": kind, "assumed": assumed},
                Point(xy),
            )
            for pid, nm, en, kind, assumed, xy in POIS
        ],
    )
    # the metric CRS the drawing is measured in (read by gis.geography.layers.load_geography)
    (HERE / "geography.json").write_text('{"crs": "EPSG:32650"}\n', encoding="utf-8")


if __name__ == "__main__":
    main()
