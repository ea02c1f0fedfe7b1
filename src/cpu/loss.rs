//! Twins of the loss ops: `shaders/loss_mse_relu_bwd.wgsl` without its mask + `loss_mean.wgsl`
//! (`mse_loss`), and `shaders/loss_cross_entropy.wgsl` + `loss_mean.wgsl` (`cross_entropy`).

/// A loss and the gradient of its input.
#[derive(Debug, Clone)]
pub struct LossGrad {
    pub loss: f64,
    pub grad: Vec<f64>,
}

/// L = Σ (p − t)² / M, dL/dp = 2(p − t)/M.
pub fn mse_loss(pred: &[f64], target: &[f64]) -> LossGrad {
    let m = pred.len() as f64;
    let loss = pred
        .iter()
        .zip(target)
        .map(|(p, t)| (p - t) * (p - t))
        .sum::<f64>()
        / m;
    let grad = pred
        .iter()
        .zip(target)
        .map(|(p, t)| 2.0 * (p - t) / m)
        .collect();
    LossGrad { loss, grad }
}

/// Each sample's loss log Σ_c exp z_c − z_label, computed as m + log Σ exp(z_c − m).
pub fn cross_entropy_rows(logits: &[f64], labels: &[u32], classes: usize) -> Vec<f64> {
    logits
        .chunks_exact(classes)
        .zip(labels)
        .map(|(row, &label)| {
            let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let s: f64 = row.iter().map(|z| (z - m).exp()).sum();
            m + s.ln() - row[label as usize]
        })
        .collect()
}

/// F.cross_entropy (mean over the batch): L = mean of the rows' losses,
/// dL/dz_nc = (softmax(z_n)_c − [c = label_n]) / N. logits are (N, classes), row-major.
pub fn cross_entropy(logits: &[f64], labels: &[u32], classes: usize) -> LossGrad {
    let n = labels.len() as f64;
    let rows = cross_entropy_rows(logits, labels, classes);
    let mut grad = Vec::with_capacity(logits.len());
    for (row, &label) in logits.chunks_exact(classes).zip(labels) {
        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = row.iter().map(|z| (z - m).exp()).sum();
        for (c, z) in row.iter().enumerate() {
            let onehot = if c == label as usize { 1.0 } else { 0.0 };
            grad.push(((z - m).exp() / s - onehot) / n);
        }
    }
    LossGrad {
        loss: rows.iter().sum::<f64>() / n,
        grad,
    }
}
