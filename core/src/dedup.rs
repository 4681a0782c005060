//! The customer duplicate check (查重): company-name normalisation and similarity.
//!
//! Reps type the same company many ways: full-width letters from a Chinese input method
//! (ＨＵＡＷＥＩ), brackets of either width, the legal suffix or not (华为技术（有限公司）),
//! `Co., Ltd.` spelled out or abbreviated. [`normalize_company_name`] folds all of these into one
//! key; two names with the same key are the same company. [`similarity`] scores names that are
//! close but not equal (华为终端 vs 华为技术) so the app can warn before a rep creates a near
//! duplicate.
//!
//! ```
//! use fieldsales_core::dedup::normalize_company_name as norm;
//! assert_eq!(norm("华为技术有限公司"), norm("华为技术（有限公司）"));
//! assert_eq!(norm("Acme Trading Co., Ltd."), "acmetrading");
//! assert_eq!(norm("ＨＵＡＷＥＩ"), "huawei");
//! ```

/// Legal-form suffixes in Chinese, longest first so that 股份有限公司 is cut whole.
const CJK_SUFFIXES: &[&str] = &[
    "集团股份有限公司",
    "集团有限责任公司",
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "分公司",
    "总公司",
    "公司",
    "集团",
    "股份",
    "有限",
];

/// Legal-form words in Latin script, matched as whole trailing words.
const LATIN_SUFFIX_WORDS: &[&str] = &[
    "co",
    "company",
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "llc",
    "plc",
    "gmbh",
    "ag",
    "sa",
    "bv",
    "pte",
    "pty",
    "group",
    "holdings",
];

/// Folds full-width forms to their ASCII counterparts and lower-cases, leaving CJK as is.
///
/// This is the folding the search index uses too, so `ＨＵＡＷＥＩ` finds `Huawei`.
pub fn fold_width_and_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = match c {
            // Full-width ASCII variants U+FF01..U+FF5E map to U+0021..U+007E.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        };
        out.extend(c.to_lowercase());
    }
    out
}

fn is_open_bracket(c: char) -> bool {
    matches!(
        c,
        '(' | '[' | '{' | '（' | '【' | '〔' | '［' | '｛' | '「' | '『' | '《' | '〈'
    )
}

fn is_close_bracket(c: char) -> bool {
    matches!(
        c,
        ')' | ']' | '}' | '）' | '】' | '〕' | '］' | '｝' | '」' | '』' | '》' | '〉'
    )
}

fn strip_cjk_suffixes(mut s: String) -> String {
    loop {
        let before = s.len();
        for suffix in CJK_SUFFIXES {
            if let Some(rest) = s.strip_suffix(suffix)
                && !rest.is_empty()
            {
                s.truncate(rest.len());
                break;
            }
        }
        if s.len() == before {
            return s;
        }
    }
}

/// The key two spellings of one company share.
///
/// Steps: fold width and case; treat brackets as separators; drop trailing legal-form words in
/// Latin script; remove whitespace and punctuation; cut Chinese legal-form suffixes (repeatedly,
/// so 集团有限公司 goes whole). A name made only of a suffix keeps it, so "有限公司" alone is not
/// folded to nothing.
pub fn normalize_company_name(name: &str) -> String {
    let folded = fold_width_and_case(name);
    // Words, splitting on anything that is not a letter or digit (brackets included).
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    for c in folded.chars() {
        if c.is_alphanumeric() && !is_open_bracket(c) && !is_close_bracket(c) {
            current.push(c);
        } else if !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    while words.len() > 1
        && words
            .last()
            .is_some_and(|w| LATIN_SUFFIX_WORDS.contains(&w.as_str()))
    {
        words.pop();
    }
    let joined: String = words.concat();
    let stripped = strip_cjk_suffixes(joined.clone());
    if stripped.is_empty() || CJK_SUFFIXES.contains(&stripped.as_str()) {
        joined
    } else {
        stripped
    }
}

/// Provinces and large cities that often lead a Chinese company name (北京…, 广东省深圳市…).
const REGION_PREFIXES: &[&str] = &[
    "北京",
    "天津",
    "上海",
    "重庆",
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "黑龙江",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "海南",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "青海",
    "台湾",
    "内蒙古",
    "广西",
    "西藏",
    "宁夏",
    "新疆",
    "香港",
    "澳门",
    "深圳",
    "广州",
    "杭州",
    "南京",
    "苏州",
    "成都",
    "武汉",
    "西安",
    "青岛",
    "大连",
    "厦门",
    "宁波",
    "无锡",
    "长沙",
    "郑州",
    "济南",
    "沈阳",
    "哈尔滨",
    "长春",
    "合肥",
    "福州",
    "昆明",
    "南宁",
    "南昌",
    "石家庄",
    "太原",
    "兰州",
    "贵阳",
    "海口",
    "珠海",
    "东莞",
    "佛山",
    "中山",
];

/// The trade name (字号) of a normalised name: leading provinces and cities cut away, so that
/// 北京华为 and 上海华为 compare on 华为, and 北京华为 and 北京中兴 do not look alike for sharing 北京.
fn trade_name(normalized: &str) -> &str {
    let mut rest = normalized;
    loop {
        let before = rest.len();
        for region in REGION_PREFIXES {
            if let Some(r) = rest.strip_prefix(region) {
                let r = r
                    .strip_prefix("自治区")
                    .or_else(|| r.strip_prefix('省'))
                    .or_else(|| r.strip_prefix('市'))
                    .unwrap_or(r);
                if r.chars().count() >= 2 {
                    rest = r;
                    break;
                }
            }
        }
        if rest.len() == before {
            return rest;
        }
    }
}

/// How alike two *normalised* names are, from 0.0 (nothing shared) to 1.0 (equal).
///
/// Names are compared on their trade names (leading region cut away). Jaro similarity with
/// Winkler's bonus for a shared beginning rewards the brand, which leads a Chinese company name
/// (华为终端 / 华为技术); the bonus is applied at any Jaro score, unlike the classic cut-off at
/// 0.7, because short CJK names rarely reach it. A name contained in the other scores at least
/// 0.75; the same trade name in different regions scores 0.9.
pub fn similarity(a: &str, b: &str) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    let (a, b) = (trade_name(a), trade_name(b));
    if a == b {
        return 0.9;
    }
    let jaro = strsim::jaro(a, b);
    let prefix = a
        .chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .take(4)
        .count() as f64;
    let jw = jaro + prefix * 0.1 * (1.0 - jaro);
    let (short, long) = if a.chars().count() <= b.chars().count() {
        (a, b)
    } else {
        (b, a)
    };
    let contained = if short.chars().count() >= 2 && long.contains(short) {
        let ratio = short.chars().count() as f64 / long.chars().count() as f64;
        0.75 + 0.2 * ratio
    } else {
        0.0
    };
    jw.max(contained).min(0.99)
}

/// The distinct character bigrams of a normalised name: the near-duplicate index keys.
pub fn name_grams(normalized: &str) -> Vec<String> {
    let chars: Vec<char> = normalized.chars().collect();
    let mut grams: Vec<String> = if chars.len() < 2 {
        chars.iter().map(|c| c.to_string()).collect()
    } else {
        chars.windows(2).map(|w| w.iter().collect()).collect()
    };
    grams.sort();
    grams.dedup();
    grams
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_company_share_a_key() {
        let key = normalize_company_name("华为技术有限公司");
        assert_eq!(key, "华为技术");
        for variant in [
            "华为技术（有限公司）",
            "华为技术(有限公司)",
            " 华为 技术 有限公司 ",
            "华为技术股份有限公司",
            "华为技术有限责任公司",
            "【华为技术】有限公司",
        ] {
            assert_eq!(normalize_company_name(variant), key, "{variant}");
        }
    }

    #[test]
    fn latin_names_lose_their_legal_form() {
        assert_eq!(
            normalize_company_name("Acme Trading Co., Ltd."),
            "acmetrading"
        );
        assert_eq!(normalize_company_name("ACME TRADING CO LTD"), "acmetrading");
        assert_eq!(
            normalize_company_name("Acme Trading Company Limited"),
            "acmetrading"
        );
        assert_eq!(
            normalize_company_name("Ｈｕａｗｅｉ Technologies Co., Ltd."),
            "huaweitechnologies"
        );
        assert_eq!(normalize_company_name("Inc."), "inc", "a bare suffix stays");
    }

    #[test]
    fn a_bare_suffix_is_not_folded_away() {
        assert_eq!(normalize_company_name("有限公司"), "有限公司");
    }

    #[test]
    fn near_names_score_high_and_strangers_low() {
        let a = normalize_company_name("华为技术有限公司");
        let b = normalize_company_name("华为终端有限公司");
        let c = normalize_company_name("中兴通讯股份有限公司");
        assert!(similarity(&a, &b) >= 0.7, "{}", similarity(&a, &b));
        assert!(similarity(&a, &c) < 0.5, "{}", similarity(&a, &c));
        assert!(similarity("华为", "华为技术") >= 0.75);
        assert_eq!(similarity(&a, &a), 1.0);
        assert!(
            similarity("北京华为", "北京中兴") < 0.5,
            "a shared city is not a shared brand"
        );
        assert_eq!(similarity("北京华为", "上海市华为"), 0.9);
    }

    #[test]
    fn grams_are_distinct_bigrams() {
        assert_eq!(name_grams("华为华为"), vec!["为华", "华为"]);
        assert_eq!(name_grams("a"), vec!["a"]);
    }
}
