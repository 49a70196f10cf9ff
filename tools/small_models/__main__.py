"""`python -m tools.small_models train|evaluate|corpus …`"""

from tools.small_models.train import main

main()
