import TensorCore
print(BLAS.info)
