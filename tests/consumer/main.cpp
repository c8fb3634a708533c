// Uses the umbrella header and a little of the public API.
#include <w2s/w2s.hpp>

#include <iostream>

int consumer_layers_of_an_empty_set();  // second.cpp

int main() {
    if (consumer_layers_of_an_empty_set() != 4) return 1;
    try {
        w2s::gguf::File f(std::vector<std::byte>(4, std::byte{0}), "empty");
        (void)f;
        return 1;  // a 4-byte file must be refused
    } catch (const w2s::error& e) {
        std::cout << "consumer ok: " << e.kind() << '\n';
        return 0;
    }
}
