//! Which delivered messages a projection may apply: no gaps in the log.
//!
//! The event stream denies deletes and purges, so its sequences run without a hole from its
//! first sequence (above 1 only when a maximum age expired the oldest messages) to its last. A
//! projection over the whole stream therefore needs exactly checkpoint + 1 next. A message
//! further on means messages were lost on the way (e.g. in flight across a NATS restart); with
//! `AckPolicy::All` its ack would also ack the lost ones, which would then never be applied. So
//! the live worker applies up to the gap and re-positions its consumer at checkpoint + 1. The
//! rebuild's replay (no acks, so nothing lost ever comes again) does the same with its
//! ephemeral consumer.
//!
//! A projection with a subject filter legitimately skips sequences (the other subjects'), so
//! its deliveries are not checked here.

/// Stream sequences that should have been delivered and were not, first to last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gap {
    pub missing_from: u64,
    pub missing_to: u64,
}

/// What to do with one delivered message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// The next message the projection needs: apply it.
    Next,
    /// At or below what is applied (or admitted earlier in the same batch): a redelivery, which
    /// must have no second effect. Drop it.
    Seen,
    /// Messages before this one are missing: apply nothing from here on, re-position.
    Gap(Gap),
}

/// Tracks the next stream sequence a projection needs, across the batches of one consumer.
#[derive(Debug, Clone)]
pub(crate) struct Sequencer {
    /// `None` for a projection with a subject filter: every delivery is admitted.
    next: Option<u64>,
}

impl Sequencer {
    /// For a projection over the whole stream at `checkpoint`. `first_in_stream` is the stream's
    /// first sequence (its `state.first_sequence`): below it nothing can be delivered, so a
    /// checkpoint below it (a new projection over an expired head) starts there.
    pub fn whole_stream(checkpoint: u64, first_in_stream: u64) -> Self {
        Self {
            next: Some(checkpoint.max(first_in_stream.saturating_sub(1)) + 1),
        }
    }

    /// For a projection with a subject filter (see the module docs).
    pub fn unchecked() -> Self {
        Self { next: None }
    }

    /// For a projection with subject filters `filters` at `checkpoint`: checked
    /// ([`Self::whole_stream`]) when they take every subject of the stream, which captures
    /// `<subject_prefix>.>`, [`Self::unchecked`] otherwise.
    pub fn for_filters(
        filters: &[String],
        subject_prefix: &str,
        checkpoint: u64,
        first_in_stream: u64,
    ) -> Self {
        if covers_whole_stream(filters, subject_prefix) {
            Self::whole_stream(checkpoint, first_in_stream)
        } else {
            Self::unchecked()
        }
    }

    /// Whether deliveries are checked for gaps: the projection is over the whole stream.
    pub fn checks_gaps(&self) -> bool {
        self.next.is_some()
    }

    /// Decides about the message at stream sequence `seq`, in delivery order.
    pub fn admit(&mut self, seq: u64) -> Admit {
        let Some(next) = self.next else {
            return Admit::Next;
        };
        if seq < next {
            Admit::Seen
        } else if seq == next {
            self.next = Some(next + 1);
            Admit::Next
        } else {
            Admit::Gap(Gap {
                missing_from: next,
                missing_to: seq - 1,
            })
        }
    }

    /// The consumer has delivered up to stream sequence `delivered_up_to`, and nothing of it is
    /// still on its way to the projection (no pull request of its is open): if that is at or
    /// past the next message needed, the messages from there were delivered elsewhere, lost.
    /// A consumer without acks never delivers them again, and no later delivery shows the gap
    /// when they were the last ones.
    pub fn lost(&self, delivered_up_to: u64) -> Option<Gap> {
        let next = self.next?;
        (delivered_up_to >= next).then_some(Gap {
            missing_from: next,
            missing_to: delivered_up_to,
        })
    }

    /// After a commit: the checkpoint is `position`. It can be ahead of what this consumer
    /// delivered (a rebuild swapped in tables that are further on); deliveries up to it are
    /// then redeliveries.
    pub fn applied(&mut self, position: u64) {
        if let Some(next) = &mut self.next {
            *next = (*next).max(position + 1);
        }
    }
}

/// Whether `filters` (the projection's subject filters) take every subject of the stream, which
/// captures `<subject_prefix>.>`.
pub(crate) fn covers_whole_stream(filters: &[String], subject_prefix: &str) -> bool {
    match filters {
        [] => true,
        [only] => *only == format!("{subject_prefix}.>"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs one batch through a sequencer: the sequences admitted, and the gap that cut it.
    fn batch(sequencer: &mut Sequencer, delivered: &[u64]) -> (Vec<u64>, Option<Gap>) {
        let mut admitted = Vec::new();
        for &seq in delivered {
            match sequencer.admit(seq) {
                Admit::Next => admitted.push(seq),
                Admit::Seen => {}
                Admit::Gap(gap) => return (admitted, Some(gap)),
            }
        }
        (admitted, None)
    }

    fn gap(missing_from: u64, missing_to: u64) -> Option<Gap> {
        Some(Gap {
            missing_from,
            missing_to,
        })
    }

    #[test]
    fn a_contiguous_batch_is_admitted_whole() {
        let mut s = Sequencer::whole_stream(10, 1);
        assert_eq!(batch(&mut s, &[11, 12, 13]), (vec![11, 12, 13], None));
        assert_eq!(batch(&mut s, &[14]), (vec![14], None));
    }

    #[test]
    fn a_gap_stops_the_batch_after_the_contiguous_prefix() {
        let mut s = Sequencer::whole_stream(10, 1);
        assert_eq!(
            batch(&mut s, &[11, 12, 15, 16]),
            (vec![11, 12], gap(13, 14))
        );
        // Nothing past the gap was admitted: the next message needed is still 13.
        assert_eq!(batch(&mut s, &[13]), (vec![13], None));
    }

    #[test]
    fn a_gap_right_after_the_checkpoint_admits_nothing() {
        let mut s = Sequencer::whole_stream(10, 1);
        assert_eq!(batch(&mut s, &[12, 13]), (vec![], gap(11, 11)));
    }

    #[test]
    fn redeliveries_at_or_below_the_checkpoint_are_dropped() {
        let mut s = Sequencer::whole_stream(10, 1);
        assert_eq!(batch(&mut s, &[9, 10, 11, 12]), (vec![11, 12], None));
    }

    #[test]
    fn duplicates_within_a_batch_are_admitted_once() {
        let mut s = Sequencer::whole_stream(0, 1);
        assert_eq!(batch(&mut s, &[1, 2, 1, 2, 3, 3]), (vec![1, 2, 3], None));
    }

    #[test]
    fn an_empty_checkpoint_starts_at_the_streams_first_sequence() {
        // A maximum age expired 1..=99: a new projection starts at 100, no gap.
        let mut s = Sequencer::whole_stream(0, 100);
        assert_eq!(batch(&mut s, &[100, 101]), (vec![100, 101], None));
        // But a gap after the first sequence is still one.
        let mut s = Sequencer::whole_stream(0, 100);
        assert_eq!(batch(&mut s, &[101]), (vec![], gap(100, 100)));
        // A checkpoint inside the stream is not moved by the first sequence.
        let mut s = Sequencer::whole_stream(150, 100);
        assert_eq!(batch(&mut s, &[152]), (vec![], gap(151, 151)));
        // An empty stream reports first sequence 0.
        let mut s = Sequencer::whole_stream(0, 0);
        assert_eq!(batch(&mut s, &[1]), (vec![1], None));
    }

    #[test]
    fn a_checkpoint_moved_ahead_by_a_swap_turns_deliveries_into_redeliveries() {
        let mut s = Sequencer::whole_stream(10, 1);
        assert_eq!(batch(&mut s, &[11]), (vec![11], None));
        s.applied(20);
        assert_eq!(batch(&mut s, &[12, 20, 21]), (vec![21], None));
    }

    #[test]
    fn messages_delivered_past_the_next_one_needed_are_lost() {
        let mut s = Sequencer::whole_stream(0, 1);
        assert_eq!(batch(&mut s, &[1, 2]), (vec![1, 2], None));
        assert_eq!(s.lost(2), None, "everything delivered has arrived");
        assert_eq!(s.lost(5), gap(3, 5));
        // Over an expired head a new consumer has "delivered" up to the first sequence - 1.
        let s = Sequencer::whole_stream(0, 100);
        assert_eq!(s.lost(99), None);
        assert_eq!(Sequencer::unchecked().lost(99), None);
    }

    #[test]
    fn a_filtered_projection_admits_everything() {
        let mut s = Sequencer::unchecked();
        assert_eq!(batch(&mut s, &[3, 7, 5, 40]), (vec![3, 7, 5, 40], None));
    }

    #[test]
    fn only_a_projection_over_the_whole_stream_is_checked() {
        let prefix = "samskab.ev";
        let mut s = Sequencer::for_filters(&["samskab.ev.>".into()], prefix, 10, 1);
        assert!(s.checks_gaps());
        assert_eq!(batch(&mut s, &[10, 11, 13]), (vec![11], gap(12, 12)));
        let mut s = Sequencer::for_filters(&["samskab.ev.t1.>".into()], prefix, 10, 1);
        assert!(!s.checks_gaps());
        assert_eq!(batch(&mut s, &[3, 13]), (vec![3, 13], None));
    }

    #[test]
    fn only_the_streams_own_wildcard_covers_the_whole_stream() {
        let prefix = "samskab.ev";
        assert!(covers_whole_stream(&["samskab.ev.>".into()], prefix));
        assert!(covers_whole_stream(&[], prefix));
        assert!(!covers_whole_stream(&["samskab.ev.t1.>".into()], prefix));
        assert!(!covers_whole_stream(
            &["samskab.ev.>".into(), "samskab.ev.t1.>".into()],
            prefix
        ));
    }
}
