"""Twin of :mod:`fastprop.kernels.loss_average`: the book Trainer's loop, written out."""


def average_losses(losses, max_iters, eval_interval, state, averages, epoch_means):
    total, count, n_avg = state[0], state[1], 0
    for e in range(len(epoch_means)):
        chunk = [float(v) for v in losses[e * max_iters:(e + 1) * max_iters]]
        s = 0.0
        for it, loss in enumerate(chunk):
            total += loss
            count += 1
            s += loss
            if eval_interval and it % eval_interval == 0:
                averages[n_avg] = total / count
                n_avg += 1
                total, count = 0.0, 0
        epoch_means[e] = s / max_iters
    state[0], state[1] = total, count
    return n_avg
