//! The demo's sales org and customers: names and places a sales team in China would
//! recognise, drawn from a seeded generator so a seed gives the same org every time.

use fieldsales_core::GeoPoint;

/// A city customers sit around: its name and the centre they scatter from.
pub struct City {
    /// The Chinese name.
    pub name: &'static str,
    /// The centre.
    pub lat: f64,
    /// The centre.
    pub lon: f64,
}

/// The two regions, each with two teams in two cities.
pub const REGIONS: [(&str, [(&str, City); 2]); 2] = [
    (
        "华东大区",
        [
            (
                "上海一组",
                City {
                    name: "上海",
                    lat: 31.2304,
                    lon: 121.4737,
                },
            ),
            (
                "杭州一组",
                City {
                    name: "杭州",
                    lat: 30.2741,
                    lon: 120.1551,
                },
            ),
        ],
    ),
    (
        "华南大区",
        [
            (
                "广州一组",
                City {
                    name: "广州",
                    lat: 23.1291,
                    lon: 113.2644,
                },
            ),
            (
                "深圳一组",
                City {
                    name: "深圳",
                    lat: 22.5431,
                    lon: 114.0579,
                },
            ),
        ],
    ),
];

const SURNAMES: [&str; 16] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
];
const GIVEN: [&str; 16] = [
    "芳", "伟", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀英", "海燕",
    "建华",
];
const TRADE: [&str; 20] = [
    "华鑫",
    "恒通",
    "瑞丰",
    "金桥",
    "宏达",
    "新原",
    "博远",
    "天成",
    "永盛",
    "嘉禾",
    "中科",
    "东方",
    "汇丰源",
    "联创",
    "鼎盛",
    "云帆",
    "启明",
    "安泰",
    "长青",
    "百川",
];
const BUSINESS: [(&str, &str, &str); 8] = [
    ("电子科技", "Electronics", "电子"),
    ("精密机械", "Precision Machinery", "机械"),
    ("医疗器械", "Medical Devices", "医疗"),
    ("食品", "Foods", "食品"),
    ("化工", "Chemicals", "化工"),
    ("物流", "Logistics", "物流"),
    ("新材料", "Advanced Materials", "材料"),
    ("汽车零部件", "Auto Parts", "汽车"),
];
const PINYIN: [&str; 20] = [
    "Huaxin",
    "Hengtong",
    "Ruifeng",
    "Jinqiao",
    "Hongda",
    "Xinyuan",
    "Boyuan",
    "Tiancheng",
    "Yongsheng",
    "Jiahe",
    "Zhongke",
    "Dongfang",
    "Huifengyuan",
    "Lianchuang",
    "Dingsheng",
    "Yunfan",
    "Qiming",
    "Antai",
    "Changqing",
    "Baichuan",
];

/// A person's Chinese name.
pub fn person_name(rng: &mut fastrand::Rng) -> String {
    format!(
        "{}{}",
        SURNAMES[rng.usize(..SURNAMES.len())],
        GIVEN[rng.usize(..GIVEN.len())]
    )
}

/// A customer to create: names, industry and a place around `city`.
pub struct CustomerSeed {
    /// The registered Chinese name.
    pub legal_name: String,
    /// The English name (every third customer has one).
    pub english_name: Option<String>,
    /// The industry.
    pub industry: &'static str,
    /// The tier.
    pub tier: &'static str,
    /// Where it is.
    pub location: GeoPoint,
    /// Its address.
    pub address: String,
}

/// The `n`th customer around `city`; `n` keeps names unique across the tenant.
pub fn customer(rng: &mut fastrand::Rng, city: &City, n: usize) -> CustomerSeed {
    let trade = rng.usize(..TRADE.len());
    let business = BUSINESS[rng.usize(..BUSINESS.len())];
    // Within ~15 km of the centre: a working day's driving.
    let location = fieldsales_core::fieldwork::geofence::destination(
        GeoPoint {
            lat: city.lat,
            lon: city.lon,
        },
        rng.f64() * 360.0,
        500.0 + rng.f64() * 14_500.0,
    );
    let legal_name = format!(
        "{}{}{}有限公司（{}号）",
        city.name, TRADE[trade], business.0, n
    );
    let english_name = n
        .is_multiple_of(3)
        .then(|| format!("{} {} Co., Ltd. No. {n}", PINYIN[trade], business.1));
    CustomerSeed {
        legal_name,
        english_name,
        industry: business.2,
        tier: ["A", "B", "B", "C"][rng.usize(..4)],
        location,
        address: format!(
            "{}市{}路{}号",
            city.name,
            TRADE[rng.usize(..TRADE.len())],
            rng.u32(1..900)
        ),
    }
}
