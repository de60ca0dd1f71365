# Writes torch-D.safetensors, a PyTorch state dict the tests load with
# `load D torch-D.safetensors spec="input 2 | linear 8 | batchnorm | relu | linear 1"`,
# and prints D's outputs (eval mode) for the inputs the test uses.
import torch
from safetensors.torch import save_file

torch.manual_seed(0)
d = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
for _ in range(3):  # move the running statistics off their initial values
    d(torch.randn(16, 2) * 2 + 0.5)
d.eval()
save_file(d.state_dict(), "torch-D.safetensors")
x = torch.tensor([[0.5, -1.0], [2.0, 0.25], [-1.5, 1.0]])
print([round(v, 7) for v in d(x).flatten().tolist()])
print({k: (str(v.dtype), list(v.shape)) for k, v in d.state_dict().items()})
