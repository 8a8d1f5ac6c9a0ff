//! A record flattened into table columns: every named elementary item, with
//! a name that is unique in the table.
//!
//! A column's name is the item's COBOL name in lower case with hyphens as
//! underscores (`CUST-ID` is `cust_id`). When two items would get the same
//! name (two `ADDRESS` fields in different REDEFINES alternatives), each is
//! prefixed with the names of its groups, nearest first, until the names
//! differ (`company_address`, `person_address`); should that not suffice, a
//! number is added (`address_2`). FILLER never becomes a column, but a
//! named item under a FILLER group does. An item under OCCURS becomes one
//! column per occurrence, numbered from 1 (`account_number_1` to
//! `account_number_80`; nested tables give `value_1_1`, `value_1_2`, ...),
//! or, with [`OccursColumns::Array`], one column holding all occurrences as
//! a JSON array (nested arrays for nested tables). Every REDEFINES
//! alternative and every record of the copybook has its columns.

use std::collections::{HashMap, HashSet};

use super::Copybook;
use super::item::{ItemId, ItemKind};

/// How an item under OCCURS becomes columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OccursColumns {
    /// One column per occurrence: `name_1` to `name_n`.
    #[default]
    Expand,
    /// One column with all occurrences in a JSON array.
    Array,
}

/// What one column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnShape {
    /// One value: an item outside any OCCURS (no indices), or one
    /// occurrence of one, at these 0-based indices, outermost first (see
    /// [`Copybook::dimensions`]).
    Value { indices: Vec<u32> },
    /// Every occurrence, as a JSON array nested once per dimension.
    Array { dimensions: usize },
}

/// A table column and the item it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column's name, unique among the columns.
    pub name: String,
    /// The elementary item.
    pub item: ItemId,
    pub shape: ColumnShape,
    /// Bytes from the start of the record to the value (to the first
    /// occurrence, for an array).
    pub offset: usize,
}

/// A COBOL name as a column name: lower case, hyphens as underscores.
pub fn column_name(cobol: &str) -> String {
    cobol.to_ascii_lowercase().replace('-', "_")
}

/// The columns of `records` (all of the copybook's records when empty).
pub fn columns(copybook: &Copybook, records: &[ItemId], occurs: OccursColumns) -> Vec<Column> {
    let records: Vec<ItemId> = if records.is_empty() {
        copybook.records().map(|record| record.id).collect()
    } else {
        records.to_vec()
    };
    let mut pending: Vec<Pending> = Vec::new();
    for record in records {
        walk(copybook, record, &mut Vec::new(), occurs, &mut pending);
    }
    unique_names(&mut pending);
    pending.into_iter().map(|p| p.column).collect()
}

/// Adds the columns of item `id` and the items under it, in record order:
/// with [`OccursColumns::Expand`], all of one occurrence before the next.
/// `indices` are the occurrences of the tables around `id`.
fn walk(
    copybook: &Copybook,
    id: ItemId,
    indices: &mut Vec<u32>,
    occurs: OccursColumns,
    pending: &mut Vec<Pending>,
) {
    let item = copybook.item(id);
    let expand = occurs == OccursColumns::Expand;
    if let (Some(table), true) = (item.occurs, expand) {
        for index in 0..table.max {
            indices.push(index);
            visit(copybook, id, indices, occurs, pending);
            indices.pop();
        }
    } else {
        visit(copybook, id, indices, occurs, pending);
    }
}

/// One occurrence of item `id`: its column, or its children's.
fn visit(
    copybook: &Copybook,
    id: ItemId,
    indices: &mut Vec<u32>,
    occurs: OccursColumns,
    pending: &mut Vec<Pending>,
) {
    let item = copybook.item(id);
    if !matches!(item.kind, ItemKind::Elementary(_)) {
        for &child in &item.children {
            walk(copybook, child, indices, occurs, pending);
        }
        return;
    }
    if item.is_filler() {
        return;
    }
    let dimensions = copybook.dimensions(id).len();
    let (shape, suffix, offset) = if occurs == OccursColumns::Array && dimensions > 0 {
        (
            ColumnShape::Array { dimensions },
            String::new(),
            item.offset,
        )
    } else {
        let suffix: String = indices.iter().map(|i| format!("_{}", i + 1)).collect();
        let offset = copybook.offset_at(id, indices).unwrap_or(item.offset);
        (
            ColumnShape::Value {
                indices: indices.clone(),
            },
            suffix,
            offset,
        )
    };
    pending.push(Pending::new(chain(copybook, id), suffix, id, shape, offset));
}

/// A column whose name is being made unique.
struct Pending {
    /// Column names of the item and its named groups, nearest first.
    chain: Vec<String>,
    /// How many of `chain` the name uses.
    used: usize,
    /// `_1_2` for an occurrence, or empty.
    suffix: String,
    column: Column,
}

impl Pending {
    fn new(
        chain: Vec<String>,
        suffix: String,
        item: ItemId,
        shape: ColumnShape,
        offset: usize,
    ) -> Pending {
        Pending {
            chain,
            used: 1,
            suffix,
            column: Column {
                name: String::new(),
                item,
                shape,
                offset,
            },
        }
    }

    fn name(&self) -> String {
        self.name_of(self.used)
    }

    /// The name with every group's name in it.
    fn full_name(&self) -> String {
        self.name_of(self.chain.len())
    }

    fn name_of(&self, used: usize) -> String {
        let mut parts: Vec<&str> = self.chain[..used]
            .iter()
            .rev()
            .map(String::as_str)
            .collect();
        parts.retain(|part| !part.is_empty());
        format!("{}{}", parts.join("_"), self.suffix)
    }
}

/// The column names of an item and its named groups, nearest first.
fn chain(copybook: &Copybook, id: ItemId) -> Vec<String> {
    let mut chain = Vec::new();
    let mut at = Some(id);
    while let Some(here) = at {
        let item = copybook.item(here);
        if let Some(name) = &item.name {
            chain.push(column_name(name));
        }
        at = item.parent;
    }
    chain
}

/// Lengthens colliding names with their groups' names while that can tell
/// them apart, then numbers what still collides.
fn unique_names(pending: &mut [Pending]) {
    loop {
        let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, column) in pending.iter().enumerate() {
            groups.entry(column.name()).or_default().push(index);
        }
        let mut progress = false;
        for members in groups.values().filter(|members| members.len() > 1) {
            // Prefixes help only if the full names differ somewhere.
            let full: HashSet<String> = members.iter().map(|m| pending[*m].full_name()).collect();
            if full.len() < 2 {
                continue;
            }
            for &member in members {
                let column = &mut pending[member];
                if column.used < column.chain.len() {
                    column.used += 1;
                    progress = true;
                }
            }
        }
        if !progress {
            break;
        }
    }
    let mut taken: HashSet<String> = HashSet::new();
    for column in pending.iter_mut() {
        let base = column.name();
        let mut name = base.clone();
        let mut number = 2;
        while !taken.insert(name.clone()) {
            name = format!("{base}_{number}");
            number += 1;
        }
        column.column.name = name;
    }
}

#[cfg(test)]
mod tests {
    use super::super::SourceFormat;
    use super::*;

    fn names(text: &str, occurs: OccursColumns) -> Vec<String> {
        let copybook = Copybook::parse(text, "test.cpy", SourceFormat::Free).expect("valid");
        columns(&copybook, &[], occurs)
            .into_iter()
            .map(|column| column.name)
            .collect()
    }

    #[test]
    fn names_are_lower_case_with_underscores_and_filler_is_left_out() {
        assert_eq!(
            names(
                "01 R. 05 CUST-ID PIC X. 05 FILLER PIC X. 05 FILLER. 10 INNER PIC X.",
                OccursColumns::Expand
            ),
            ["cust_id", "inner"]
        );
    }

    #[test]
    fn duplicate_names_take_their_group_names_as_prefixes() {
        let text = "01 ENTITY.
            05 COMPANY. 10 NAME PIC X(20). 10 ADDRESS PIC X(30).
            05 PERSON REDEFINES COMPANY. 10 NAME PIC X(16). 10 ADDRESS PIC X(20). 10 PHONE PIC X.";
        assert_eq!(
            names(text, OccursColumns::Expand),
            [
                "company_name",
                "company_address",
                "person_name",
                "person_address",
                "phone"
            ]
        );
    }

    #[test]
    fn names_the_groups_cannot_tell_apart_are_numbered() {
        let text = "01 R. 05 G. 10 A PIC X. 05 G. 10 A PIC X. 05 A-1 PIC X. 05 A OCCURS 1 PIC X.";
        assert_eq!(
            names(text, OccursColumns::Expand),
            ["a", "a_2", "a_1", "a_1_2"]
        );
    }

    #[test]
    fn occurrences_are_numbered_from_1_or_kept_in_one_array() {
        let text = "01 R. 05 N PIC 9. 05 T OCCURS 2. 10 K PIC X. 10 V OCCURS 3 PIC 9.";
        assert_eq!(
            names(text, OccursColumns::Expand),
            [
                "n", "k_1", "v_1_1", "v_1_2", "v_1_3", "k_2", "v_2_1", "v_2_2", "v_2_3"
            ]
        );
        let copybook = Copybook::parse(text, "test.cpy", SourceFormat::Free).expect("valid");
        let expanded = columns(&copybook, &[], OccursColumns::Expand);
        let offsets: Vec<usize> = expanded.iter().map(|c| c.offset).collect();
        assert_eq!(offsets, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            expanded[4].shape,
            ColumnShape::Value {
                indices: vec![0, 2]
            }
        );
        let arrays = columns(&copybook, &[], OccursColumns::Array);
        let shapes: Vec<(&str, &ColumnShape)> =
            arrays.iter().map(|c| (c.name.as_str(), &c.shape)).collect();
        assert_eq!(
            shapes,
            [
                ("n", &ColumnShape::Value { indices: vec![] }),
                ("k", &ColumnShape::Array { dimensions: 1 }),
                ("v", &ColumnShape::Array { dimensions: 2 }),
            ]
        );
    }

    #[test]
    fn every_record_has_its_columns_and_an_elementary_record_is_one() {
        let text = "01 HEADER. 05 KIND PIC X. 05 RUN-DATE PIC 9(8).
                    01 DETAIL. 05 KIND PIC X. 05 AMOUNT PIC 9(5).
                    01 RAW-LINE PIC X(80).";
        assert_eq!(
            names(text, OccursColumns::Expand),
            [
                "header_kind",
                "run_date",
                "detail_kind",
                "amount",
                "raw_line"
            ]
        );
    }
}
