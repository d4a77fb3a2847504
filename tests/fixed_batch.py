"""One habit of the training tests: optimizer steps on one fixed batch, the loss of each step returned."""


def fixed_batch_losses(objective, embedder, batch, params, steps: int, lr: float, before_step=None):
    """``steps`` AdamW steps of ``objective`` on ``batch``; returns (the losses in order, the last step's metrics)."""
    import torch

    optimizer = torch.optim.AdamW(params, lr=lr)
    losses, metrics = [], {}
    for _ in range(steps):
        if before_step is not None:
            before_step()
        loss, metrics = objective(embedder, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, metrics
