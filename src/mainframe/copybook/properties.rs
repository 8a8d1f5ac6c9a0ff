//! Properties of the layout over generated copybooks: a record is as long as
//! an independent model of its items says, items follow one another without
//! gaps or overlaps (but for REDEFINES), the same copybook written in fixed
//! and in free format has the same layout, and the column count matches the
//! columns; and no edit of a valid copybook makes the parser panic.

use proptest::prelude::*;

use super::{
    Copybook, OccursColumns, SchemaOptions, SourceFormat, column_count, columns, table_schema,
};

/// A generated data item.
#[derive(Debug, Clone)]
enum Node {
    Field {
        picture: String,
        digits: u32,
        usage: &'static str,
        occurs: Option<u32>,
        /// A text field that REDEFINES this one, of this many bytes.
        redefined_by: Option<u32>,
    },
    Group {
        children: Vec<Node>,
        occurs: Option<u32>,
    },
}

/// The bytes of a field by the storage rules, written out independently of
/// `layout`.
fn field_size(picture: &str, digits: u32, usage: &str) -> usize {
    match usage {
        "COMP-1" => 4,
        "COMP-2" => 8,
        "COMP-3" => digits as usize / 2 + 1,
        "COMP" | "COMP-5" => match digits {
            0..=4 => 2,
            5..=9 => 4,
            _ => 8,
        },
        // DISPLAY: X(n) and 9(n), a byte a position.
        _ if picture.starts_with('X') || picture.starts_with('9') => digits as usize,
        _ => unreachable!("no other DISPLAY pictures are generated: {picture}"),
    }
}

impl Node {
    /// The bytes it occupies: all occurrences, and a redefinition's if
    /// larger.
    fn size(&self) -> usize {
        match self {
            Node::Field {
                picture,
                digits,
                usage,
                occurs,
                redefined_by,
            } => {
                let one = field_size(picture, *digits, usage);
                let own = one * occurs.unwrap_or(1) as usize;
                own.max(redefined_by.unwrap_or(0) as usize)
            }
            Node::Group { children, occurs } => {
                children.iter().map(Node::size).sum::<usize>() * occurs.unwrap_or(1) as usize
            }
        }
    }

    /// The entries of this node at `depth`, named from `counter`.
    fn entries(&self, depth: u32, counter: &mut u32, out: &mut Vec<String>) {
        *counter += 1;
        let level = depth * 5;
        let occurs =
            |occurs: &Option<u32>| occurs.map_or(String::new(), |n| format!(" OCCURS {n}"));
        match self {
            Node::Field {
                picture,
                usage,
                occurs: times,
                redefined_by,
                ..
            } => {
                let name = format!("F{counter}");
                let picture = if picture.is_empty() {
                    String::new()
                } else {
                    format!(" PIC {picture}")
                };
                let usage = if usage.is_empty() {
                    String::new()
                } else {
                    format!(" {usage}")
                };
                out.push(format!(
                    "{level:02} {name}{picture}{usage}{}.",
                    occurs(times)
                ));
                if let Some(bytes) = redefined_by {
                    *counter += 1;
                    out.push(format!(
                        "{level:02} R{counter} REDEFINES {name} PIC X({bytes})."
                    ));
                }
            }
            Node::Group {
                children,
                occurs: times,
            } => {
                out.push(format!("{level:02} G{counter}{}.", occurs(times)));
                for child in children {
                    child.entries(depth + 1, counter, out);
                }
            }
        }
    }
}

fn field() -> impl Strategy<Value = Node> {
    let kind = prop_oneof![
        (1u32..30).prop_map(|n| (format!("X({n})"), n, "")),
        (1u32..19).prop_map(|n| (format!("9({n})"), n, "")),
        (1u32..10, 0u32..9).prop_map(|(i, f)| (
            format!("S9({i})V9({})", f + 1),
            i + f + 1,
            "COMP-3"
        )),
        (1u32..19).prop_map(|n| (format!("S9({n})"), n, "COMP")),
        (1u32..19).prop_map(|n| (format!("9({n})"), n, "COMP-5")),
        Just((String::new(), 0, "COMP-1")),
        Just((String::new(), 0, "COMP-2")),
    ];
    (
        kind,
        proptest::option::of(1u32..4),
        proptest::option::of(1u32..40),
    )
        .prop_map(
            |((picture, digits, usage), occurs, redefined_by)| Node::Field {
                picture,
                digits,
                usage,
                occurs,
                redefined_by,
            },
        )
}

fn node() -> impl Strategy<Value = Node> {
    field().prop_recursive(4, 40, 5, |inner| {
        (
            proptest::collection::vec(inner, 1..5),
            proptest::option::of(1u32..4),
        )
            .prop_map(|(children, occurs)| Node::Group { children, occurs })
    })
}

/// A record of generated items, in fixed and in free format.
fn record() -> impl Strategy<Value = (Vec<Node>, String, String)> {
    proptest::collection::vec(node(), 1..6).prop_map(|children| {
        let mut entries = vec!["01 REC.".to_string()];
        let mut counter = 0;
        for child in &children {
            child.entries(1, &mut counter, &mut entries);
        }
        let fixed: String = entries
            .iter()
            .enumerate()
            .map(|(i, entry)| format!("{:06} {}{entry}\n", i * 100, " ".repeat(i % 4)))
            .collect();
        let free = entries.join(" ");
        (children, fixed, free)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn layouts_add_up_and_do_not_depend_on_the_source_format((children, fixed, free) in record()) {
        let from_fixed = Copybook::parse(&fixed, "fixed.cpy", SourceFormat::Auto)
            .map_err(|error| TestCaseError::fail(format!("{error}\n{fixed}")))?;
        let from_free = Copybook::parse(&free, "free.cpy", SourceFormat::Auto)
            .map_err(|error| TestCaseError::fail(format!("{error}\n{free}")))?;
        prop_assert_eq!(from_fixed.source_format(), SourceFormat::Fixed);
        prop_assert_eq!(from_free.source_format(), SourceFormat::Free);

        let expected: usize = children.iter().map(Node::size).sum();
        prop_assert_eq!(from_fixed.record_length(), expected);

        let places = |copybook: &Copybook| -> Vec<(Option<String>, usize, usize)> {
            copybook.items().iter().map(|i| (i.name.clone(), i.offset, i.length)).collect()
        };
        prop_assert_eq!(places(&from_fixed), places(&from_free));

        // Within every group, each item starts where the items before it
        // end, or where the item it redefines starts.
        for item in from_fixed.items() {
            let mut end = item.offset;
            let mut set_start = item.offset;
            for child in from_fixed.children(item.id) {
                match child.redefines {
                    Some(redefined) => {
                        prop_assert_eq!(child.offset, from_fixed.item(redefined).offset);
                        prop_assert_eq!(child.offset, set_start);
                    }
                    None => {
                        prop_assert_eq!(child.offset, end);
                        set_start = child.offset;
                    }
                }
                end = end.max(child.offset + child.extent());
            }
            if !item.children.is_empty() {
                prop_assert_eq!(end, item.offset + item.length);
            }
        }

        let made = columns(&from_fixed, &[], OccursColumns::Expand);
        prop_assert_eq!(column_count(&from_fixed, &[], OccursColumns::Expand), made.len() as u64);
        let mut names: Vec<&str> = made.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        prop_assert_eq!(names.len(), made.len(), "column names are unique");
    }
}

/// A copybook using most of what the parser reads, for mutations.
const TEMPLATE: &str = "\
000100 01  CUSTOMER-RECORD.                                             CUSTREC1
000200* customer master
000300     05  CUST-ID             PIC X(10).
000400     05  CUST-STATUS         PIC X.
000500         88  ACTIVE          VALUE 'A'.
000600         88  INACTIVE        VALUES ARE 'I' 'S'
000650                             X'00' THRU HIGH-VALUES.
000700     05  BALANCE             PIC S9(9)V99 COMP-3 VALUE +0.
000800     05  NOTE-TEXT           PIC X(60) VALUE 'THIS IS A LONG
000900-    'TEXT'.
001000     05  N-ADDR              PIC S9(4) COMP SYNC.
001100     05  ADDRESSES OCCURS 0 TO 5 TIMES DEPENDING ON N-ADDR
001200             INDEXED BY ADDR-IX.
001300         10  STREET          PIC X(30).
001400         10  ZIP             PIC 9(5) BLANK WHEN ZERO.
001500         10  ZIP-X REDEFINES ZIP PIC X(5).
001600     05  AMOUNT-EDITED       PIC $$$,$$9.99CR.
001700     05  SCALED              PIC SPPP9(5) SIGN LEADING SEPARATE.
001800     05  RATE                COMP-2.
";

/// Text that edits may insert.
const SNIPPETS: &[&str] = &[
    ".",
    " ",
    "\n",
    "'",
    "\"",
    "(",
    ")",
    "9",
    "X",
    "S",
    "V",
    "P",
    "-",
    "*",
    "*>",
    "\t",
    "0",
    "OCCURS 3 ",
    "REDEFINES ZIP ",
    "PIC ",
    "05 ",
    "10 ",
    "88 A VALUE 1.",
    "01 ",
    "66 ",
    "77 ",
    "VALUE ",
    "THRU ",
    "DEPENDING ON N-ADDR ",
    "COMP-3 ",
    "COMP-1 ",
    "SIGN LEADING SEPARATE ",
    "\u{1a}",
    "é",
    "X'",
    "ALL ",
    "999999999",
    "(99999)",
];

/// One edit: delete the character at a position, or insert a snippet there.
fn edits() -> impl Strategy<Value = Vec<(usize, Option<usize>)>> {
    proptest::collection::vec(
        (0usize..2000, proptest::option::of(0..SNIPPETS.len())),
        1..6,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn no_edit_of_a_copybook_panics_the_parser(edits in edits(), format in 0u8..3) {
        let mut text: Vec<char> = TEMPLATE.chars().collect();
        for (at, insert) in edits {
            let at = at % (text.len() + 1);
            match insert {
                Some(snippet) => {
                    let tail = text.split_off(at);
                    text.extend(SNIPPETS[snippet].chars());
                    text.extend(tail);
                }
                None if at < text.len() => {
                    text.remove(at);
                }
                None => {}
            }
        }
        let text: String = text.into_iter().collect();
        let format = [SourceFormat::Auto, SourceFormat::Fixed, SourceFormat::Free][format as usize];
        if let Ok(copybook) = Copybook::parse(&text, "edited.cpy", format) {
            for item in copybook.items() {
                let record = copybook.record_of(item.id);
                prop_assert!(item.offset + item.extent() <= record.length);
            }
            let options = SchemaOptions { enums: true, ..SchemaOptions::default() };
            if table_schema(&copybook, &options).is_ok() {
                let made = columns(&copybook, &[], OccursColumns::Expand);
                prop_assert_eq!(column_count(&copybook, &[], OccursColumns::Expand), made.len() as u64);
            }
        }
    }
}

#[test]
fn the_template_for_edits_is_a_valid_copybook() {
    let copybook = Copybook::parse(TEMPLATE, "template.cpy", SourceFormat::Auto).expect("valid");
    assert_eq!(copybook.source_format(), SourceFormat::Fixed);
    assert_eq!(
        copybook.record_length(),
        10 + 1 + 6 + 60 + 2 + 5 * 35 + 12 + 6 + 8
    );
}
