"""`python -m explain.small_models train|evaluate|corpus …`"""

from explain.small_models.train import main

main()
