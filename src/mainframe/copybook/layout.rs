//! From entries to items: nesting by level number, REDEFINES and DEPENDING
//! ON resolved to items, each elementary item's data type and size, and
//! every item's offset.
//!
//! Sizes: DISPLAY takes a byte a character (the picture's size, plus one for
//! a separate sign); COMP-3 `digits / 2 + 1`; binary 2, 4 or 8 bytes for up
//! to 4, 9 and 18 digits (IBM's rule) and, above 18, the bytes that hold the
//! digits and a sign bit (Cobrix's rule, as in its test data); COMP-1 4 and
//! COMP-2 8. A group is as long as its items, an OCCURS item counting at its
//! maximum; items that REDEFINE one another share the offset of the first
//! and take the space of the largest. A USAGE or SIGN clause on a group
//! applies to the elementary items under it.

use super::Problem;
use super::item::{
    Binary, Condition, DataType, Elementary, FloatWidth, Item, ItemId, ItemKind, Occurs, Precision,
    SignPosition, Usage, Zoned, ZonedSign,
};
use super::parse::{Entry, QualifiedName, SignClause, Spanned};
use super::picture::{self, Category};

/// The most bytes a record may take.
const MAX_RECORD: usize = 1 << 30;

/// The items of a copybook and its records.
#[derive(Debug)]
pub(super) struct Layout {
    /// Every item, in source order: `items[i].id` is `i`.
    pub items: Vec<Item>,
    /// The records (level 01 and 77 items, or the implicit record).
    pub records: Vec<ItemId>,
}

/// An entry on its way to becoming an item.
struct Draft {
    entry: Entry,
    parent: Option<usize>,
    children: Vec<usize>,
    depth: u32,
    conditions: Vec<Condition>,
    redefines: Option<usize>,
    redefined_by: Vec<usize>,
}

impl Draft {
    fn name(&self) -> &str {
        match (&self.entry.name, self.parent, self.entry.level) {
            (Some(name), _, _) => name,
            (None, None, 1) => "(the record)",
            (None, _, _) => "FILLER",
        }
    }
}

/// Builds the layout of `entries`.
pub(super) fn build(entries: Vec<Entry>) -> Result<Layout, Problem> {
    let (mut drafts, records) = nest(entries)?;
    resolve_redefines(&mut drafts, &records)?;
    let kinds = kinds(&drafts)?;
    let occurs = occurs(&drafts)?;
    let (lengths, relative) = lengths(&drafts, &kinds, &occurs)?;
    let mut items: Vec<Item> = Vec::with_capacity(drafts.len());
    for (index, draft) in drafts.iter().enumerate() {
        let offset = match draft.parent {
            Some(parent) => items[parent].offset + relative[index],
            None => 0,
        };
        items.push(Item {
            id: id(index),
            level: draft.entry.level,
            name: draft.entry.name.clone(),
            position: draft.entry.position,
            parent: draft.parent.map(id),
            children: draft.children.iter().copied().map(id).collect(),
            depth: draft.depth,
            offset,
            length: lengths[index],
            occurs: occurs[index].map(|(min, max)| Occurs {
                min,
                max,
                depending_on: None,
            }),
            redefines: draft.redefines.map(id),
            redefined_by: draft.redefined_by.iter().copied().map(id).collect(),
            kind: kinds[index].clone(),
            conditions: draft.conditions.clone(),
        });
    }
    resolve_depending_on(&drafts, &mut items)?;
    Ok(Layout {
        items,
        records: records.into_iter().map(id).collect(),
    })
}

fn id(index: usize) -> ItemId {
    // A copybook has far fewer than 2^32 entries: its source is capped.
    ItemId(u32::try_from(index).unwrap_or(u32::MAX))
}

/// The tree of entries: parents by level number, condition names attached
/// to the item before them. Returns the drafts and the record indexes.
fn nest(entries: Vec<Entry>) -> Result<(Vec<Draft>, Vec<usize>), Problem> {
    let mut drafts: Vec<Draft> = Vec::new();
    let mut records = Vec::new();
    // The open path: the current record and the groups below it.
    let mut open: Vec<usize> = Vec::new();
    for entry in entries {
        if entry.level == 88 {
            let Some(last) = drafts.last_mut() else {
                return Err(Problem::new(
                    entry.position,
                    "a condition name (level 88) must follow the item it is about",
                ));
            };
            last.conditions.push(Condition {
                name: entry.name.clone().unwrap_or_default(),
                position: entry.position,
                values: entry.values.map(|values| values.value).unwrap_or_default(),
            });
            continue;
        }
        let draft = |entry: Entry, parent, depth| Draft {
            entry,
            parent,
            children: Vec::new(),
            depth,
            conditions: Vec::new(),
            redefines: None,
            redefined_by: Vec::new(),
        };
        if entry.level == 1 || entry.level == 77 {
            open = vec![drafts.len()];
            records.push(drafts.len());
            drafts.push(draft(entry, None, 0));
            continue;
        }
        if open.is_empty() {
            // A copybook that starts below level 01: its items make one
            // record without a name.
            let implicit = Entry {
                level: 1,
                position: entry.position,
                ..Entry::default()
            };
            open = vec![drafts.len()];
            records.push(drafts.len());
            drafts.push(draft(implicit, None, 0));
        }
        let record = &drafts[open[0]];
        if record.entry.level == 77 {
            return Err(Problem::new(
                entry.position,
                format!(
                    "{} is at level {} after the level-77 item {} ({}), which stands alone and \
                     has no subordinate items; begin a record with 01 before it",
                    entry.display_name(),
                    entry.level,
                    record.name(),
                    record.entry.position
                ),
            ));
        }
        while open.len() > 1
            && open
                .last()
                .is_some_and(|top| drafts[*top].entry.level >= entry.level)
        {
            open.pop();
        }
        let parent = *open.last().unwrap_or(&0);
        if let Some(&previous) = drafts[parent].children.last()
            && drafts[previous].entry.level != entry.level
        {
            let previous = &drafts[previous];
            let parent = &drafts[parent];
            return Err(Problem::new(
                entry.position,
                format!(
                    "level {:02} of {} does not line up with the items before it: {} ({}) is at \
                     level {:02} under {} (level {:02}); give {} level {:02} to place it beside {}, \
                     or a level no higher than {:02} to end {}",
                    entry.level,
                    entry.display_name(),
                    previous.name(),
                    previous.entry.position,
                    previous.entry.level,
                    parent.name(),
                    parent.entry.level,
                    entry.display_name(),
                    previous.entry.level,
                    previous.name(),
                    parent.entry.level,
                    parent.name(),
                ),
            ));
        }
        let index = drafts.len();
        let depth = drafts[parent].depth + 1;
        drafts.push(draft(entry, Some(parent), depth));
        drafts[parent].children.push(index);
        open.push(index);
    }
    Ok((drafts, records))
}

/// Resolves each REDEFINES to the item it names: the nearest sibling
/// before it that redefines nothing (siblings that redefine the same item
/// may come between).
fn resolve_redefines(drafts: &mut [Draft], records: &[usize]) -> Result<(), Problem> {
    for index in 0..drafts.len() {
        let Some(Spanned {
            value: target,
            position,
        }) = drafts[index].entry.redefines.clone()
        else {
            continue;
        };
        let siblings: &[usize] = match drafts[index].parent {
            Some(parent) => &drafts[parent].children,
            None => records,
        };
        let here = siblings.iter().position(|s| *s == index).unwrap_or(0);
        let name = drafts[index].name().to_string();
        let Some(&head) = siblings[..here]
            .iter()
            .rev()
            .find(|s| drafts[**s].entry.redefines.is_none())
        else {
            return Err(Problem::new(
                position,
                format!(
                    "{name} REDEFINES {target}, but nothing comes before {name} at its level; \
                     REDEFINES must name the item directly before it"
                ),
            ));
        };
        let head_draft = &drafts[head];
        if !head_draft
            .entry
            .name
            .as_deref()
            .is_some_and(|own| own.eq_ignore_ascii_case(&target))
        {
            let chained = siblings[..here].iter().find(|s| {
                drafts[**s]
                    .entry
                    .name
                    .as_deref()
                    .is_some_and(|own| own.eq_ignore_ascii_case(&target))
                    && drafts[**s].entry.redefines.is_some()
            });
            let message = match chained {
                Some(_) => format!(
                    "{name} REDEFINES {target}, which itself redefines {}: name {} instead, the \
                     item they both share",
                    head_draft.name(),
                    head_draft.name()
                ),
                None => format!(
                    "{name} REDEFINES {target}, but the item it follows at this level is {} ({}): \
                     REDEFINES must name the item directly before it (other items that redefine \
                     that one may come between)",
                    head_draft.name(),
                    head_draft.entry.position
                ),
            };
            return Err(Problem::new(position, message));
        }
        drafts[index].redefines = Some(head);
        drafts[head].redefined_by.push(index);
    }
    Ok(())
}

/// Each item's kind: a group, or an elementary item with its data type.
fn kinds(drafts: &[Draft]) -> Result<Vec<ItemKind>, Problem> {
    let mut kinds = Vec::with_capacity(drafts.len());
    for (index, draft) in drafts.iter().enumerate() {
        let entry = &draft.entry;
        let name = draft.name();
        let usage = inherited_usage(drafts, index)?;
        if !draft.children.is_empty() {
            if let Some(picture) = &entry.picture {
                let first = &drafts[draft.children[0]];
                return Err(Problem::new(
                    picture.position,
                    format!(
                        "{name} has subordinate items ({} at {}), so it is a group and cannot \
                         have a PICTURE; remove PIC {}, or end the group before {}",
                        first.name(),
                        first.entry.position,
                        picture.value,
                        first.name()
                    ),
                ));
            }
            for (clause, position) in [
                ("JUSTIFIED", entry.justified),
                ("BLANK WHEN ZERO", entry.blank_when_zero),
            ] {
                if let Some(position) = position {
                    return Err(Problem::new(
                        position,
                        format!("{clause} applies to elementary items, and {name} is a group"),
                    ));
                }
            }
            kinds.push(ItemKind::Group);
            continue;
        }
        let sign = inherited_sign(drafts, index);
        let elementary = elementary(draft, usage, sign)?;
        kinds.push(ItemKind::Elementary(elementary));
    }
    Ok(kinds)
}

/// The usage of an item: its own, or the nearest group's. A group's usage
/// applies to everything under it, so an item may not say otherwise.
fn inherited_usage(drafts: &[Draft], index: usize) -> Result<Usage, Problem> {
    let own = drafts[index].entry.usage.as_ref();
    let mut ancestor = drafts[index].parent;
    while let Some(at) = ancestor {
        if let Some(group) = &drafts[at].entry.usage {
            if let Some(own) = own
                && own.value != group.value
            {
                return Err(Problem::new(
                    own.position,
                    format!(
                        "{} is {} inside {}, which is USAGE {} ({}): a group's usage applies to \
                         all its items; drop one of the two",
                        drafts[index].name(),
                        own.value,
                        drafts[at].name(),
                        group.value,
                        group.position
                    ),
                ));
            }
            return Ok(group.value);
        }
        ancestor = drafts[at].parent;
    }
    Ok(own.map_or(Usage::Display, |own| own.value))
}

/// The SIGN clause of an item, its own or the nearest group's, and whether
/// it was its own.
fn inherited_sign(drafts: &[Draft], index: usize) -> Option<(Spanned<SignClause>, bool)> {
    if let Some(own) = &drafts[index].entry.sign {
        return Some((own.clone(), true));
    }
    let mut ancestor = drafts[index].parent;
    while let Some(at) = ancestor {
        if let Some(group) = &drafts[at].entry.sign {
            return Some((group.clone(), false));
        }
        ancestor = drafts[at].parent;
    }
    None
}

/// An elementary item's description from its picture, usage and sign.
fn elementary(
    draft: &Draft,
    usage: Usage,
    sign: Option<(Spanned<SignClause>, bool)>,
) -> Result<Elementary, Problem> {
    let entry = &draft.entry;
    let name = draft.name();
    let picture = match (&entry.picture, usage) {
        (Some(picture), Usage::Float | Usage::Double) => {
            return Err(Problem::new(
                picture.position,
                format!(
                    "{name} is {usage}, which takes no PICTURE: remove PIC {}",
                    picture.value
                ),
            ));
        }
        (Some(picture), _) => Some(picture::parse(&picture.value, picture.position)?),
        (None, Usage::Float | Usage::Double) => None,
        (None, _) => {
            return Err(Problem::new(
                entry.position,
                format!(
                    "{name} has no PICTURE clause and no subordinate items: an elementary item \
                     needs a PICTURE (only COMP-1 and COMP-2 items have none)"
                ),
            ));
        }
    };
    let own_sign = sign.as_ref().filter(|(_, own)| *own).map(|(sign, _)| sign);
    let refuse_sign = |why: &str| match own_sign {
        Some(sign) => Err(Problem::new(
            sign.position,
            format!("SIGN applies to numeric DISPLAY items, and {name} is {why}"),
        )),
        None => Ok(()),
    };
    let data = match &picture {
        None => {
            refuse_sign(usage.keyword())?;
            if usage == Usage::Double {
                DataType::Float(FloatWidth::Double)
            } else {
                DataType::Float(FloatWidth::Single)
            }
        }
        Some(picture) if usage == Usage::Display => match picture.category {
            Category::Alphabetic | Category::Alphanumeric | Category::AlphanumericEdited => {
                refuse_sign("text")?;
                DataType::Text
            }
            Category::NumericEdited => {
                refuse_sign("numeric-edited (its picture writes the sign)")?;
                DataType::Edited(Precision {
                    digits: picture.digits,
                    scale: picture.scale,
                    signed: picture.signed,
                })
            }
            Category::Numeric => {
                // As Cobrix does, a SIGN clause makes the item signed even
                // when its picture has no S.
                let sign = match &sign {
                    Some((clause, _)) if clause.value.separate => {
                        ZonedSign::Separate(clause.value.position)
                    }
                    Some((clause, _)) => ZonedSign::Overpunched(clause.value.position),
                    None if picture.signed => ZonedSign::Overpunched(SignPosition::Trailing),
                    None => ZonedSign::Unsigned,
                };
                DataType::Zoned(Zoned {
                    decimal: Precision {
                        digits: picture.digits,
                        scale: picture.scale,
                        signed: sign != ZonedSign::Unsigned,
                    },
                    sign,
                    explicit_point: picture.explicit_point,
                })
            }
        },
        // Binary or packed (COMP-1 and COMP-2 with a picture were refused
        // above).
        Some(picture) => {
            let at = entry
                .picture
                .as_ref()
                .map_or(entry.position, |p| p.position);
            if picture.category != Category::Numeric {
                return Err(Problem::new(
                    at,
                    format!(
                        "{name} is {usage}, which holds numbers: its picture must use only 9, S, \
                         V and P, not PIC {}",
                        picture.text
                    ),
                ));
            }
            if picture.explicit_point {
                return Err(Problem::new(
                    at,
                    format!(
                        "{name} is {usage}, which has no place for the . of PIC {}; write V for \
                         the decimal point",
                        picture.text
                    ),
                ));
            }
            refuse_sign(&format!("{usage}"))?;
            let decimal = Precision {
                digits: picture.digits,
                scale: picture.scale,
                signed: picture.signed,
            };
            if usage == Usage::Packed {
                DataType::Packed(decimal)
            } else {
                DataType::Binary(Binary {
                    decimal,
                    bytes: binary_bytes(picture.digits),
                    native: usage == Usage::NativeBinary,
                })
            }
        }
    };
    if let Some(position) = entry.justified
        && data != DataType::Text
    {
        return Err(Problem::new(
            position,
            format!("JUSTIFIED applies to text items, and {name} holds a number"),
        ));
    }
    if let Some(position) = entry.blank_when_zero
        && !matches!(data, DataType::Zoned(_) | DataType::Edited(_))
    {
        return Err(Problem::new(
            position,
            format!("BLANK WHEN ZERO applies to numeric DISPLAY items, and {name} is not one"),
        ));
    }
    Ok(Elementary {
        picture,
        usage,
        data,
        justified_right: entry.justified.is_some(),
        blank_when_zero: entry.blank_when_zero.is_some(),
        synchronized: entry.synchronized.is_some(),
    })
}

/// The bytes of a binary item of `digits` digits.
pub(super) fn binary_bytes(digits: u32) -> u8 {
    match digits {
        0..=4 => 2,
        5..=9 => 4,
        10..=18 => 8,
        // The bytes of the digits plus a sign bit: ceil((n log2 10 + 1) / 8).
        // n log2 10 is never a whole number, so the float is safe here.
        n => ((f64::from(n) * std::f64::consts::LOG2_10 + 1.0) / 8.0).ceil() as u8,
    }
}

/// The `(min, max)` of each item's OCCURS clause, checked.
fn occurs(drafts: &[Draft]) -> Result<Vec<Option<(u32, u32)>>, Problem> {
    drafts
        .iter()
        .map(|draft| {
            let Some(occurs) = &draft.entry.occurs else {
                return Ok(None);
            };
            let name = draft.name();
            if draft.parent.is_none() {
                return Err(Problem::new(
                    occurs.position,
                    format!(
                        "{name} is a record (level {:02}), which cannot have OCCURS; put the \
                         repeated items in a group under it",
                        draft.entry.level
                    ),
                ));
            }
            let clause = &occurs.value;
            if clause.max == 0 {
                return Err(Problem::new(
                    occurs.position,
                    format!("{name} OCCURS 0 times: a table needs at least one occurrence"),
                ));
            }
            let min = match (clause.min, &clause.depending_on) {
                (Some(min), _) => min,
                (None, Some(_)) => 1,
                (None, None) => clause.max,
            };
            if min > clause.max {
                return Err(Problem::new(
                    occurs.position,
                    format!(
                        "{name} OCCURS {min} TO {}: the fewest occurrences cannot be more than \
                         the most",
                        clause.max
                    ),
                ));
            }
            Ok(Some((min, clause.max)))
        })
        .collect()
}

/// Each item's length, and its offset within its parent.
fn lengths(
    drafts: &[Draft],
    kinds: &[ItemKind],
    occurs: &[Option<(u32, u32)>],
) -> Result<(Vec<usize>, Vec<usize>), Problem> {
    let mut lengths = vec![0usize; drafts.len()];
    let mut relative = vec![0usize; drafts.len()];
    let too_big = |index: usize| {
        Problem::new(
            drafts[index].entry.position,
            format!(
                "{} would take more than {MAX_RECORD} bytes; droplake reads records up to 1 GiB",
                drafts[index].name()
            ),
        )
    };
    // Children come after their parent, so going backwards finds every
    // child's length before its parent's.
    for index in (0..drafts.len()).rev() {
        lengths[index] = match &kinds[index] {
            ItemKind::Elementary(elementary) => elementary_length(elementary),
            ItemKind::Group => {
                // The current set of items that redefine one another starts
                // at `start` and, so far, ends at `end`.
                let (mut start, mut end) = (0usize, 0usize);
                for &child in &drafts[index].children {
                    let count = occurs[child].map_or(1, |(_, max)| max as usize);
                    let extent = lengths[child]
                        .checked_mul(count)
                        .filter(|extent| *extent <= MAX_RECORD)
                        .ok_or_else(|| too_big(child))?;
                    if drafts[child].redefines.is_none() {
                        start = end;
                    }
                    relative[child] = start;
                    end = end.max(start + extent);
                    if end > MAX_RECORD {
                        return Err(too_big(index));
                    }
                }
                end
            }
        };
    }
    Ok((lengths, relative))
}

/// The bytes of one elementary item.
fn elementary_length(elementary: &Elementary) -> usize {
    let size = elementary.picture.as_ref().map_or(0, |p| p.size as usize);
    match elementary.data {
        DataType::Text | DataType::Edited(_) => size,
        DataType::Zoned(zoned) => {
            let separate = matches!(zoned.sign, ZonedSign::Separate(_));
            size + usize::from(separate)
        }
        DataType::Packed(decimal) => decimal.digits as usize / 2 + 1,
        DataType::Binary(binary) => usize::from(binary.bytes),
        DataType::Float(FloatWidth::Single) => 4,
        DataType::Float(FloatWidth::Double) => 8,
    }
}

/// Resolves each DEPENDING ON to the item that holds the count, and checks
/// that a decoder can read that count before the table.
fn resolve_depending_on(drafts: &[Draft], items: &mut [Item]) -> Result<(), Problem> {
    for index in 0..drafts.len() {
        let Some(Spanned { value: occurs, .. }) = &drafts[index].entry.occurs else {
            continue;
        };
        let Some(Spanned {
            value: wanted,
            position,
        }) = &occurs.depending_on
        else {
            continue;
        };
        let position = *position;
        let table = drafts[index].name();
        let record = record_of(items, index);
        let record_name = drafts[record].name();
        let end = subtree_end(items, record);
        let candidates: Vec<usize> = (record..end)
            .filter(|candidate| matches_qualified(items, *candidate, wanted))
            .collect();
        let found = match candidates.as_slice() {
            [] => {
                return Err(Problem::new(
                    position,
                    format!(
                        "{table} OCCURS DEPENDING ON {wanted}, but record {record_name} has no \
                         item of that name"
                    ),
                ));
            }
            [one] => *one,
            [first, ..] => {
                let lines: Vec<String> = candidates
                    .iter()
                    .map(|c| items[*c].position.line.to_string())
                    .collect();
                let parent = items[*first].parent.map_or("its group".to_string(), |p| {
                    items[p.index()].display_name().to_string()
                });
                return Err(Problem::new(
                    position,
                    format!(
                        "{table} OCCURS DEPENDING ON {wanted}, which is ambiguous: record \
                         {record_name} has {} items of that name (lines {}); qualify it, as in \
                         {} OF {parent}",
                        candidates.len(),
                        lines.join(", "),
                        wanted.name
                    ),
                ));
            }
        };
        let counter = &items[found];
        let counter_name = counter.display_name().to_string();
        let problem = |message: String| Problem::new(position, message);
        if counter.elementary().is_none() {
            return Err(problem(format!(
                "{table} OCCURS DEPENDING ON {counter_name}, which is a group; the count must be \
                 an elementary item"
            )));
        }
        if found >= index {
            let inside = found < subtree_end(items, index);
            return Err(problem(if inside {
                format!(
                    "{table} OCCURS DEPENDING ON {counter_name}, which lies inside the table it \
                     counts; the count must come before the table"
                )
            } else {
                format!(
                    "{table} OCCURS DEPENDING ON {counter_name} ({}), which comes after the \
                     table; the count must come before it in the record",
                    counter.position
                )
            }));
        }
        let table_ancestors = ancestors(items, index);
        let mut around = Some(found);
        while let Some(at) = around {
            if items[at].occurs.is_some() && !table_ancestors.contains(&at) {
                return Err(problem(format!(
                    "{table} OCCURS DEPENDING ON {counter_name}, which is inside OCCURS {} ({}) \
                     that does not hold the table, so no one occurrence of it is the count",
                    items[at].display_name(),
                    items[at].position
                )));
            }
            around = items[at].parent.map(ItemId::index);
        }
        if let Some(occurs) = &mut items[index].occurs {
            occurs.depending_on = Some(id(found));
        }
    }
    Ok(())
}

/// The record that holds item `index`.
fn record_of(items: &[Item], index: usize) -> usize {
    let mut at = index;
    while let Some(parent) = items[at].parent {
        at = parent.index();
    }
    at
}

/// The index just past the last item under `index` (items are in source
/// order, so a subtree is a range).
fn subtree_end(items: &[Item], index: usize) -> usize {
    let depth = items[index].depth;
    (index + 1..items.len())
        .find(|after| items[*after].depth <= depth)
        .unwrap_or(items.len())
}

/// The groups around item `index`, nearest first.
fn ancestors(items: &[Item], index: usize) -> Vec<usize> {
    let mut found = Vec::new();
    let mut at = items[index].parent;
    while let Some(parent) = at {
        found.push(parent.index());
        at = items[parent.index()].parent;
    }
    found
}

/// Whether item `index` is the one `wanted` names: its name, and each
/// qualifier the name of a group further out.
fn matches_qualified(items: &[Item], index: usize, wanted: &QualifiedName) -> bool {
    if !items[index].is_named(&wanted.name) {
        return false;
    }
    let mut outer = ancestors(items, index).into_iter();
    wanted
        .qualifiers
        .iter()
        .all(|qualifier| outer.any(|at| items[at].is_named(qualifier)))
}

#[cfg(test)]
mod tests {
    use super::super::lexer::tokens;
    use super::super::parse::entries;
    use super::super::source::{SourceFormat, SourcePosition, read};
    use super::*;

    fn layout(text: &str) -> Result<Layout, Problem> {
        let source = read(text, SourceFormat::Free);
        build(entries(&tokens(&source.lines)?)?)
    }

    fn ok(text: &str) -> Layout {
        layout(text).expect("a valid copybook")
    }

    fn problem(text: &str) -> Problem {
        layout(text).expect_err("an invalid copybook")
    }

    fn item<'l>(layout: &'l Layout, name: &str) -> &'l Item {
        layout
            .items
            .iter()
            .find(|item| item.is_named(name))
            .expect("an item of that name")
    }

    /// (offset, length) of a named item.
    fn place(layout: &Layout, name: &str) -> (usize, usize) {
        let item = item(layout, name);
        (item.offset, item.length)
    }

    #[test]
    fn storage_follows_usage_and_picture() {
        let layout = ok("01 R.
              05 TEXT PIC X(20).
              05 ZONED PIC S9(7)V99.
              05 SEPARATE-SIGN PIC S9(7)V99 SIGN LEADING SEPARATE.
              05 POINT PIC 9(5).99.
              05 PACKED PIC S9(7)V99 COMP-3.
              05 HALF PIC S9(4) COMP.
              05 FULL PIC 9(9) BINARY.
              05 DOUBLE-WORD PIC S9(18) COMP-5.
              05 HUGE PIC 9(20) COMP-4.
              05 SINGLE COMP-1.
              05 LONG COMP-2.
              05 EDITED PIC Z(6)VZZ-.");
        let expected = [
            ("TEXT", 20),
            ("ZONED", 9),
            ("SEPARATE-SIGN", 10),
            ("POINT", 8),
            ("PACKED", 5),
            ("HALF", 2),
            ("FULL", 4),
            ("DOUBLE-WORD", 8),
            ("HUGE", 9),
            ("SINGLE", 4),
            ("LONG", 8),
            ("EDITED", 9),
        ];
        let mut offset = 0;
        for (name, length) in expected {
            assert_eq!(place(&layout, name), (offset, length), "{name}");
            offset += length;
        }
        assert_eq!(layout.items[0].length, offset);
    }

    #[test]
    fn binary_sizes_follow_ibm_up_to_18_digits_then_cobrix() {
        let sizes: Vec<(u32, u8)> = [1, 4, 5, 9, 10, 18, 19, 20, 28, 37, 38]
            .into_iter()
            .map(|digits| (digits, binary_bytes(digits)))
            .collect();
        assert_eq!(
            sizes,
            [
                (1, 2),
                (4, 2),
                (5, 4),
                (9, 4),
                (10, 8),
                (18, 8),
                (19, 9),
                (20, 9),
                (28, 12),
                (37, 16),
                (38, 16)
            ]
        );
    }

    #[test]
    fn a_group_usage_and_sign_apply_to_its_items() {
        let layout = ok(
            "01 R. 05 G COMP-3 SIGN TRAILING SEPARATE. 10 A PIC S9(5). 10 B PIC 9(3).
                         05 H SIGN LEADING SEPARATE. 10 C PIC S9(3). 10 D PIC X(2).",
        );
        let data = |name| item(&layout, name).elementary().expect("elementary").data;
        assert!(matches!(data("A"), DataType::Packed(_)));
        assert_eq!(place(&layout, "B"), (3, 2));
        let DataType::Zoned(c) = data("C") else {
            panic!("zoned")
        };
        assert_eq!(c.sign, ZonedSign::Separate(SignPosition::Leading));
        assert_eq!(place(&layout, "C").1, 4);
        assert_eq!(data("D"), DataType::Text, "a group's SIGN passes over text");
    }

    #[test]
    fn a_sign_clause_on_an_unsigned_picture_makes_it_signed_as_cobrix_does() {
        let layout = ok("01 R. 05 N PIC 99V99 SIGN IS LEADING SEPARATE CHARACTER.");
        let DataType::Zoned(zoned) = item(&layout, "N").elementary().expect("elementary").data
        else {
            panic!("zoned")
        };
        assert!(zoned.decimal.signed);
        assert_eq!(item(&layout, "N").length, 5);
    }

    #[test]
    fn redefines_share_the_offset_and_the_area_takes_the_largest() {
        let layout = ok("01 ENTITY.
              05 SEGMENT-ID PIC X(1).
              05 COMPANY.
                 10 COMPANY-NAME PIC X(20).
                 10 ADDRESS PIC X(30).
                 10 TAXPAYER PIC X(8).
              05 PERSON REDEFINES COMPANY.
                 10 FIRST-NAME PIC X(16).
                 10 LAST-NAME PIC X(16).
                 10 ADDRESS PIC X(20).
                 10 PHONE-NUM PIC X(11).
              05 PO-BOX REDEFINES COMPANY.
                 10 PO-NUMBER PIC X(12).
              05 AFTER PIC X(2).");
        assert_eq!(place(&layout, "COMPANY"), (1, 58));
        assert_eq!(place(&layout, "PERSON"), (1, 63));
        assert_eq!(place(&layout, "PO-BOX"), (1, 12));
        assert_eq!(
            place(&layout, "AFTER"),
            (64, 2),
            "after the largest alternative"
        );
        assert_eq!(layout.items[0].length, 66);
        let company = item(&layout, "COMPANY");
        let person = item(&layout, "PERSON");
        assert_eq!(company.redefined_by.len(), 2);
        assert_eq!(person.redefines, Some(company.id));
        assert_eq!(place(&layout, "PHONE-NUM"), (53, 11));
    }

    #[test]
    fn occurs_multiplies_and_children_give_the_first_occurrence() {
        let layout = ok("01 R.
              05 N PIC 9(3) COMP-3.
              05 T OCCURS 1 TO 80 DEPENDING ON N.
                 10 A PIC X(24).
                 10 M OCCURS 3.
                    15 B PIC S9(3) COMP-3.
              05 AFTER PIC X.");
        let table = item(&layout, "T");
        assert_eq!(table.length, 24 + 3 * 2);
        assert_eq!(table.extent(), 80 * 30);
        let occurs = table.occurs.expect("occurs");
        assert_eq!((occurs.min, occurs.max), (1, 80));
        assert_eq!(occurs.depending_on, Some(item(&layout, "N").id));
        assert_eq!(place(&layout, "B"), (2 + 24, 2));
        assert_eq!(
            item(&layout, "M").occurs.map(|o| (o.min, o.max)),
            Some((3, 3))
        );
        assert_eq!(place(&layout, "AFTER"), (2 + 2400, 1));
    }

    #[test]
    fn a_count_inside_the_same_outer_occurrence_is_allowed() {
        let layout = ok("01 RECORD.
              02 COUNT PIC 9(1).
              02 GROUP OCCURS 0 TO 2 TIMES DEPENDING ON COUNT.
                 03 INNER-COUNT PIC 9(1).
                 03 INNER-GROUP OCCURS 0 TO 3 TIMES DEPENDING ON INNER-COUNT.
                    04 FIELD PIC X.");
        assert_eq!(layout.items[0].length, 1 + 2 * (1 + 3));
        let inner = item(&layout, "INNER-GROUP").occurs.expect("occurs");
        assert_eq!(inner.depending_on, Some(item(&layout, "INNER-COUNT").id));
    }

    #[test]
    fn depending_on_names_can_be_qualified() {
        let layout = ok("01 R.
              05 H1. 10 N PIC 9.
              05 H2. 10 N PIC 9.
              05 T OCCURS 1 TO 5 DEPENDING ON N OF H2 PIC X.");
        let occurs = item(&layout, "T").occurs.expect("occurs");
        assert_eq!(occurs.depending_on.map(ItemId::index), Some(4));
    }

    #[test]
    fn several_records_are_alternatives_and_77_stands_alone() {
        let layout = ok("01 HEADER. 05 KIND PIC X. 05 DATE PIC 9(8).
                         01 DETAIL. 05 KIND PIC X. 05 AMOUNT PIC S9(7)V99 COMP-3.
                         77 FLAG PIC X. 88 ON-FLAG VALUE 'Y'.");
        let records: Vec<(&str, usize)> = layout
            .records
            .iter()
            .map(|id| {
                let record = &layout.items[id.index()];
                (record.display_name(), record.length)
            })
            .collect();
        assert_eq!(records, [("HEADER", 9), ("DETAIL", 6), ("FLAG", 1)]);
        assert_eq!(place(&layout, "AMOUNT"), (1, 5), "each record starts at 0");
        assert_eq!(item(&layout, "FLAG").conditions[0].name, "ON-FLAG");
    }

    #[test]
    fn a_copybook_without_01_gets_an_unnamed_record() {
        let layout = ok("05 A PIC X(2). 05 B. 10 C PIC 9.");
        assert_eq!(layout.records.len(), 1);
        let record = &layout.items[0];
        assert_eq!(
            (record.name.as_deref(), record.level, record.length),
            (None, 1, 3)
        );
        assert_eq!(item(&layout, "B").depth, 1);
    }

    #[test]
    fn conditions_belong_to_the_item_before_them() {
        let layout = ok(
            "01 R. 05 STATUS PIC X. 88 ACTIVE VALUE 'A'. 88 CLOSED VALUE 'C' 'X'.
                         05 NEXT PIC X.",
        );
        let names: Vec<&str> = item(&layout, "STATUS")
            .conditions
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["ACTIVE", "CLOSED"]);
        assert!(item(&layout, "NEXT").conditions.is_empty());
    }

    #[test]
    fn filler_takes_space_without_a_name() {
        let layout = ok("01 R. 05 FILLER PIC X(3). 05 A PIC X. 05 PIC X(2). 05 B PIC X.");
        assert_eq!(place(&layout, "A"), (3, 1));
        assert_eq!(place(&layout, "B"), (6, 1));
        assert_eq!(layout.items.iter().filter(|i| i.is_filler()).count(), 2);
    }

    #[test]
    fn level_numbers_must_line_up() {
        let found = problem("01 A.\n 05 B.\n  10 C PIC X.\n 07 D PIC X.");
        assert_eq!(found.position, SourcePosition { line: 4, column: 2 });
        assert!(
            found.message.contains(
                "level 07 of D does not line up with the items before it: C (line 3, column 3) \
                 is at level 10 under B (level 05)"
            ),
            "{}",
            found.message
        );
    }

    #[test]
    fn semantic_errors_name_the_item_and_say_what_to_do() {
        let cases = [
            (
                "01 R. 05 G PIC X(3). 10 A PIC X.",
                (1, 16),
                "G has subordinate items (A at line 1, column 22), so it is a group",
            ),
            ("01 R. 05 A.", (1, 7), "A has no PICTURE clause"),
            (
                "01 R. 05 F COMP-1 PIC 9(3).",
                (1, 23),
                "F is COMP-1, which takes no PICTURE",
            ),
            (
                "01 R. 05 P PIC X(3) COMP-3.",
                (1, 16),
                "its picture must use only 9, S, V and P",
            ),
            (
                "01 R. 05 P PIC 9(3).99 COMP.",
                (1, 16),
                "write V for the decimal point",
            ),
            (
                "01 R. 05 T PIC X SIGN LEADING.",
                (1, 18),
                "SIGN applies to numeric DISPLAY items, and T is text",
            ),
            (
                "01 R. 05 J PIC 9 JUST RIGHT.",
                (1, 18),
                "JUSTIFIED applies to text items",
            ),
            (
                "01 R. 05 B PIC X BLANK WHEN ZERO.",
                (1, 18),
                "BLANK WHEN ZERO applies to numeric DISPLAY",
            ),
            (
                "01 R. 05 G COMP. 10 A PIC 9 COMP-3.",
                (1, 29),
                "A is COMP-3 inside G, which is USAGE COMP",
            ),
            (
                "01 R OCCURS 2. 05 A PIC X.",
                (1, 6),
                "R is a record (level 01), which cannot have OCCURS",
            ),
            (
                "01 R. 05 A PIC X OCCURS 0.",
                (1, 18),
                "a table needs at least one occurrence",
            ),
            (
                "01 R. 05 N PIC 9. 05 A PIC X OCCURS 5 TO 2 DEPENDING ON N.",
                (1, 30),
                "cannot be more than the most",
            ),
            (
                "01 R. 05 A PIC X OCCURS 1 TO 2 DEPENDING ON NOPE.",
                (1, 45),
                "record R has no item of that name",
            ),
            (
                "01 R. 05 A PIC X OCCURS 1 TO 2 DEPENDING ON LATER. 05 LATER PIC 9.",
                (1, 45),
                "comes after the table",
            ),
            (
                "01 R. 05 G. 10 N PIC 9. 05 A PIC X OCCURS 1 TO 2 DEPENDING ON G.",
                (1, 63),
                "which is a group",
            ),
            (
                "01 R. 05 G OCCURS 1 TO 2 DEPENDING ON N. 10 N PIC 9.",
                (1, 39),
                "lies inside the table",
            ),
            (
                "01 R. 05 G OCCURS 3. 10 N PIC 9. 05 A PIC X OCCURS 1 TO 2 DEPENDING ON N.",
                (1, 72),
                "inside OCCURS G",
            ),
            (
                "01 R. 05 H1. 10 N PIC 9. 05 H2. 10 N PIC 9. 05 A PIC X OCCURS 1 TO 2 DEPENDING ON N.",
                (1, 83),
                "ambiguous",
            ),
            (
                "01 R. 05 A PIC X. 05 B PIC X. 05 C REDEFINES A PIC X.",
                (1, 46),
                "the item it follows at this level is B",
            ),
            (
                "01 R. 05 A PIC X. 05 B REDEFINES A PIC X. 05 C REDEFINES B PIC X.",
                (1, 58),
                "which itself redefines A",
            ),
            (
                "01 R. 05 C REDEFINES A PIC X.",
                (1, 22),
                "nothing comes before C",
            ),
            (
                "88 LOST VALUE 1.",
                (1, 1),
                "must follow the item it is about",
            ),
            ("77 A PIC X. 05 B PIC X.", (1, 13), "level-77 item A"),
        ];
        for (text, (line, column), message) in cases {
            let found = problem(text);
            assert_eq!(
                found.position,
                SourcePosition { line, column },
                "{text}: {}",
                found.message
            );
            assert!(found.message.contains(message), "{text}: {}", found.message);
        }
    }

    #[test]
    fn positions_are_those_of_the_level_numbers() {
        let layout = ok("01 R.\n   05 A PIC X.");
        assert_eq!(
            item(&layout, "A").position,
            SourcePosition { line: 2, column: 4 }
        );
    }
}
