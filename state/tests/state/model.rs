//! Property: any sequence of puts and removes leaves the state equal to a map model, with one
//! serial step per change.

use std::collections::BTreeMap;

use cairn_state::{OperationKind, ResourceRecord, Store};
use proptest::prelude::*;

use crate::common::{record, state_dir, urn};

#[derive(Clone, Debug)]
enum Op {
    Put { name: u8, version: u8 },
    Remove { name: u8 },
    NewApply,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..6u8, 0..3u8).prop_map(|(name, version)| Op::Put { name, version }),
        2 => (0..6u8).prop_map(|name| Op::Remove { name }),
        1 => Just(Op::NewApply),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn puts_and_removes_match_a_map_model(ops in prop::collection::vec(op(), 0..40)) {
        let (_temp, dir) = state_dir();
        let store = Store::open(&dir).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let run = |ops: &[Op]| -> Result<(BTreeMap<String, ResourceRecord>, u64), cairn_state::StateError> {
            let mut model = BTreeMap::new();
            let mut changes = 0;
            let mut apply = store.begin_apply(OperationKind::Apply, 0)?;
            for op in ops {
                match *op {
                    Op::Put { name, version } => {
                        let record = record(&format!("n{name}"), u64::from(version));
                        if model.get(&record.urn) != Some(&record) {
                            changes += 1;
                        }
                        let serial = store.put_resource(apply, &record)?;
                        model.insert(record.urn.clone(), record);
                        assert_eq!(serial, changes);
                    }
                    Op::Remove { name } => {
                        let urn = urn(&format!("n{name}"));
                        if model.remove(&urn).is_some() {
                            changes += 1;
                        }
                        assert_eq!(store.remove_resource(apply, &urn)?, changes);
                    }
                    Op::NewApply => apply = store.begin_apply(OperationKind::Apply, 0)?,
                }
            }
            Ok((model, changes))
        };
        let (model, changes) = run(&ops).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let snapshot = store.snapshot().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(snapshot.resources, model);
        prop_assert_eq!(snapshot.metadata.serial, changes);
    }
}
