//! The order of pages and waits, and what a delivery report means for who is called. Pure: no
//! clock, no I/O, so every shape of a chain is unit-tested here.

use std::time::Duration;

use super::Mode;
use crate::channels::iletimerkezi::DeliveryState;
use crate::phone::Phone;
use crate::report::Stage;

/// One step of an escalation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send a level of a round.
    Page(Stage),
    /// Wait this long for an acknowledgement before the next page.
    Wait(Duration),
    /// `sms-first`: read the delivery report for up to this long.
    WatchSms(Duration),
}

/// The steps of an escalation, and whether `cap` (the total of all waits) cut it short.
///
/// `sms-first`: text (level 1), watch the report, call (level 2), with the watch held within
/// the cap. `chain`: level 1, wait, level 2, then for each repeat a wait and the same again. A
/// wait that does not fit in what is left of the cap ends the chain there: the pages after it
/// are not sent early, they are not sent.
pub fn steps(mode: Mode, after: Duration, repeat: u32, cap: Duration) -> (Vec<Step>, bool) {
    let page = |round, level| Step::Page(Stage { round, level });
    match mode {
        Mode::Off => (vec![page(1, 1)], false),
        Mode::SmsFirst => (vec![page(1, 1), Step::WatchSms(after.min(cap)), page(1, 2)], false),
        Mode::Chain => {
            let mut steps = Vec::new();
            let mut waited = Duration::ZERO;
            for round in 1..=repeat.saturating_add(1) {
                for level in [1, 2] {
                    if !steps.is_empty() {
                        if waited + after > cap {
                            return (steps, true);
                        }
                        waited += after;
                        steps.push(Step::Wait(after));
                    }
                    steps.push(page(round, level));
                }
            }
            (steps, false)
        }
    }
}

/// The numbers an `sms-first` escalation calls at once, with its first SMS: those only voice
/// knows (on `--phone-numbers` but not on `--sms-phone-numbers`), which get no SMS to wait for.
pub fn call_at_once(called: &[Phone], texted: &[Phone]) -> Vec<Phone> {
    called.iter().filter(|phone| !texted.contains(phone)).cloned().collect()
}

/// The numbers an `sms-first` escalation calls once the report is read: every one whose SMS was not delivered, that is
/// undelivered or still pending, in the order they were texted.
pub fn to_call(phones: &[Phone], states: &[DeliveryState]) -> Vec<Phone> {
    phones
        .iter()
        .zip(states.iter().copied().chain(std::iter::repeat(DeliveryState::Pending)))
        .filter(|(_, state)| *state != DeliveryState::Delivered)
        .map(|(phone, _)| phone.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn page(round: u32, level: u32) -> Step {
        Step::Page(Stage { round, level })
    }

    #[test]
    fn sms_first_texts_watches_and_calls_within_the_cap() {
        let (steps, cut) = steps(Mode::SmsFirst, 60 * S, 0, 900 * S);
        assert_eq!(steps, [page(1, 1), Step::WatchSms(60 * S), page(1, 2)]);
        assert!(!cut);
        assert_eq!(super::steps(Mode::SmsFirst, 60 * S, 0, 10 * S).0[1], Step::WatchSms(10 * S));
    }

    #[test]
    fn a_chain_waits_between_every_two_pages_and_repeats_whole() {
        let (one, cut) = steps(Mode::Chain, 60 * S, 0, 900 * S);
        assert_eq!(one, [page(1, 1), Step::Wait(60 * S), page(1, 2)]);
        assert!(!cut);
        let (two, _) = steps(Mode::Chain, 60 * S, 1, 900 * S);
        assert_eq!(
            two,
            [
                page(1, 1),
                Step::Wait(60 * S),
                page(1, 2),
                Step::Wait(60 * S),
                page(2, 1),
                Step::Wait(60 * S),
                page(2, 2)
            ]
        );
    }

    #[test]
    fn the_cap_ends_the_chain_at_the_first_wait_that_does_not_fit() {
        let (steps, cut) = steps(Mode::Chain, 2 * S, 5, 5 * S);
        assert_eq!(steps, [page(1, 1), Step::Wait(2 * S), page(1, 2), Step::Wait(2 * S), page(2, 1)]);
        assert!(cut);
        // A cap that holds every wait exactly does not cut.
        assert!(!super::steps(Mode::Chain, 2 * S, 1, 6 * S).1);
    }

    #[test]
    fn only_delivered_numbers_are_not_called() {
        let phones: Vec<Phone> = crate::phone::parse_list("5321234567, 5339876543, 5441112233").unwrap();
        let states = [DeliveryState::Delivered, DeliveryState::Undelivered, DeliveryState::Pending];
        assert_eq!(to_call(&phones, &states), phones[1..].to_vec());
        assert!(to_call(&phones, &[DeliveryState::Delivered; 3]).is_empty());
        // A number the report never mentioned is pending.
        assert_eq!(to_call(&phones, &[DeliveryState::Delivered]), phones[1..].to_vec());
    }

    proptest::proptest! {
        /// For any split of numbers between --phone-numbers and --sms-phone-numbers and any
        /// delivery report, `sms-first` pages every number at the first level (by SMS, or by a
        /// call at once when only voice knows it), calls every number whose SMS was not
        /// delivered, and calls no number twice.
        #[test]
        fn sms_first_leaves_no_number_out_and_calls_none_twice(
            split in proptest::collection::vec((0u8..3, 0u8..3), 1..7),
        ) {
            let all: Vec<Phone> =
                crate::phone::parse_list(&(0..split.len()).map(|i| format!("53212345{i:02}")).collect::<Vec<_>>().join(",")).unwrap();
            // 0: voice only, 1: SMS only, 2: both.
            let called: Vec<Phone> = all.iter().zip(&split).filter(|(_, (l, _))| *l != 1).map(|(p, _)| p.clone()).collect();
            let texted: Vec<Phone> = all.iter().zip(&split).filter(|(_, (l, _))| *l != 0).map(|(p, _)| p.clone()).collect();
            let states: Vec<DeliveryState> = all
                .iter()
                .zip(&split)
                .filter(|(_, (l, _))| *l != 0)
                .map(|(_, (_, s))| [DeliveryState::Delivered, DeliveryState::Undelivered, DeliveryState::Pending][*s as usize])
                .collect();
            let at_once = call_at_once(&called, &texted);
            let later = to_call(&texted, &states);
            for phone in &all {
                proptest::prop_assert!(texted.contains(phone) || at_once.contains(phone), "level 1 left a number out");
            }
            for (phone, state) in texted.iter().zip(&states) {
                proptest::prop_assert_eq!(later.contains(phone), *state != DeliveryState::Delivered);
            }
            let mut calls: Vec<&Phone> = at_once.iter().chain(&later).collect();
            let total = calls.len();
            calls.dedup();
            calls.sort_by_key(|p| p.national().to_string());
            calls.dedup();
            proptest::prop_assert_eq!(calls.len(), total, "a number is called twice");
        }
    }
}
