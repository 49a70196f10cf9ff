# Hugging Face Docker Space (CPU Basic: 2 vCPU / 16 GB). The steps are the README's own
# (`make run`), so the test suite covers them; the model cache is built into the image so a
# waking Space starts in seconds instead of converting the GGUF file again.
FROM python:3.11-slim

RUN apt-get update && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*

# Spaces run the container as uid 1000.
RUN useradd --create-home --uid 1000 user
USER user
ENV HOME=/home/user \
    LLM_EXPLAINER_CACHE=/home/user/model-cache \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    STREAMLIT_SERVER_HEADLESS=true
WORKDIR /home/user/app

COPY --chown=user requirements.txt requirements-nodeps.txt Makefile ./
RUN make install
COPY --chown=user . .
RUN make model

EXPOSE 8501
CMD ["make", "run", "PORT=8501"]
