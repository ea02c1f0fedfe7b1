//! A loss curve in bounded memory, however many steps: enough to plot it, not every step.

/// Points kept by default: far more than a plot has pixels across.
pub const TRACE_POINTS: usize = 4096;

/// The losses of steps 0, 1, 2, … kept at a stride that doubles whenever more than `cap` points
/// would be held (so at most `cap` of them, evenly spaced), plus the first and the latest step.
#[derive(Debug, Clone)]
pub struct LossTrace {
    cap: usize,
    stride: u64,
    kept: Vec<(u64, f32)>,
    latest: Option<(u64, f32)>,
    count: u64,
}

impl Default for LossTrace {
    fn default() -> Self {
        Self::new(TRACE_POINTS)
    }
}

impl LossTrace {
    /// An empty trace keeping at most `cap` (at least 2) evenly spaced points.
    pub fn new(cap: usize) -> Self {
        LossTrace {
            cap: cap.max(2),
            stride: 1,
            kept: Vec::new(),
            latest: None,
            count: 0,
        }
    }

    /// Records the loss of `step`; steps come in order from 0.
    pub fn push(&mut self, step: u64, loss: f32) {
        self.count += 1;
        self.latest = Some((step, loss));
        if !step.is_multiple_of(self.stride) {
            return;
        }
        self.kept.push((step, loss));
        if self.kept.len() > self.cap {
            self.stride *= 2;
            let stride = self.stride;
            self.kept.retain(|(s, _)| s.is_multiple_of(stride));
        }
    }

    /// Records the losses of `first`, `first + 1`, ….
    pub fn extend(&mut self, first: u64, losses: &[f32]) {
        for (i, &l) in losses.iter().enumerate() {
            self.push(first + i as u64, l);
        }
    }

    /// Steps recorded.
    pub fn steps(&self) -> u64 {
        self.count
    }

    /// The first step's loss.
    pub fn first(&self) -> Option<(u64, f32)> {
        self.kept.first().copied()
    }

    /// The latest step's loss.
    pub fn last(&self) -> Option<(u64, f32)> {
        self.latest
    }

    /// The points kept, in order, ending with the latest step.
    pub fn points(&self) -> Vec<(u64, f32)> {
        let mut points = self.kept.clone();
        if let Some(latest) = self.latest {
            if points.last().map(|p| p.0) != Some(latest.0) {
                points.push(latest);
            }
        }
        points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_every_step_while_short() {
        let mut t = LossTrace::new(8);
        t.extend(0, &[5.0, 4.0, 3.0]);
        assert_eq!(t.points(), vec![(0, 5.0), (1, 4.0), (2, 3.0)]);
        assert_eq!(
            (t.steps(), t.first(), t.last()),
            (3, Some((0, 5.0)), Some((2, 3.0)))
        );
    }

    #[test]
    fn stays_bounded_and_evenly_spaced_on_a_long_run() {
        let mut t = LossTrace::new(16);
        for step in 0..100_000u64 {
            t.push(step, step as f32);
        }
        let points = t.points();
        assert!(points.len() <= 17, "{}", points.len());
        assert!(points.len() >= 8, "{}", points.len());
        assert_eq!(points[0], (0, 0.0));
        assert_eq!(points.last(), Some(&(99_999, 99_999.0)));
        let gaps: Vec<u64> = points.windows(2).map(|w| w[1].0 - w[0].0).collect();
        assert!(
            gaps[..gaps.len() - 1].windows(2).all(|g| g[0] == g[1]),
            "{gaps:?}"
        );
        assert_eq!(t.steps(), 100_000);
    }
}
