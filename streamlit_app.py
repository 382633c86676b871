"""ftrag web app: `make run` (streamlit run streamlit_app.py).

Only wiring lives here: session state, the shareable link, navigation. Each page lives in
ui/pages/ and renders what one core call returns.
"""

from __future__ import annotations

import streamlit as st

from ui import state
from ui.common import md

PAGES = [
    st.Page("ui/pages/profile.py", title="Profile", icon=":material/tune:", default=True),
    st.Page("ui/pages/recommendation.py", title="Recommendation", icon=":material/recommend:"),
    st.Page("ui/pages/cost.py", title="Cost & freshness", icon=":material/payments:"),
    st.Page("ui/pages/prototype.py", title="Prototype", icon=":material/science:"),
    st.Page("ui/pages/report.py", title="Report", icon=":material/description:"),
    st.Page("ui/pages/history.py", title="History", icon=":material/history:"),
]


def main() -> None:
    st.set_page_config(page_title="ftrag: fine-tune, RAG or hybrid?", page_icon="⚖️", layout="wide")
    state.init()
    page = st.navigation(PAGES)
    state.sync_link()
    with st.sidebar:
        p = state.current_profile()
        st.caption("Current profile")
        st.markdown(f"**{md(p.name)}**  \n{p.task} · updates {p.knowledge_update_frequency}")
        st.caption("The page URL carries this profile: copy it to share.")
    state.show_flash()
    page.run()


if __name__ == "__main__":
    main()
